// Drill 2: Postgres stops under a steady request loop and comes back. While it is down every request answers 503
// quickly (never 500, never a hang); once it is back the same API process answers 200 again within seconds.
import { ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import {
  ApiProc,
  bearer,
  call,
  drillEnv,
  ensureBuilt,
  freePort,
  loginAdmin,
  markerWorkflow,
  Reply,
  report,
  setupExperimentAndQueue,
  sleep,
  spawnApi,
  stopAll,
  submitMarkerJob,
  waitFor,
} from './fault-kit';

/** Drives test/faults/pg-control.mjs: SIGUSR1 stops Postgres, SIGUSR2 starts it, each transition prints a line. */
class ControlledPostgres {
  private child?: ChildProcess;
  private out = '';

  constructor(
    readonly port: number,
    private readonly dir: string,
  ) {}

  get adminUrl(): string {
    return `postgres://postgres:postgres@127.0.0.1:${this.port}/postgres`;
  }

  async start(): Promise<void> {
    this.child = spawn(process.execPath, [join(__dirname, 'pg-control.mjs'), String(this.port), this.dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (d: Buffer) => (this.out += d.toString()));
    this.child.stderr!.on('data', (d: Buffer) => (this.out += d.toString()));
    await this.line(`ready ${this.port}`, 1, 90_000);
  }

  async stopPostgres(n: number): Promise<void> {
    this.child!.kill('SIGUSR1');
    await this.line('stopped', n, 30_000);
  }

  async startPostgres(n: number): Promise<void> {
    this.child!.kill('SIGUSR2');
    await this.line('started', n, 30_000);
  }

  /** Waits for the `n`th line `text`. */
  private line(text: string, n: number, timeoutMs: number): Promise<boolean> {
    return waitFor(`pg-control: ${text} #${n}`, async () => {
      if (this.out.includes('error ')) throw new Error(this.out);
      return this.out.split('\n').filter((l) => l === text).length >= n;
    }, timeoutMs, 50).catch((e) => {
      throw new Error(`${(e as Error).message}\n${this.out}`);
    });
  }

  async exit(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
  }
}

interface Sample extends Reply {
  path: string;
  at: number;
}

describe('fault drill: Postgres restarted under load', () => {
  let tmp: string;
  let pg: ControlledPostgres;
  let api: ApiProc;
  let token: string;

  beforeAll(async () => {
    ensureBuilt();
    tmp = mkdtempSync(join(tmpdir(), 'alidade-fault-pg-'));
    chmodSync(tmp, 0o755); // Postgres runs as the `postgres` user when we are root
    pg = new ControlledPostgres(await freePort(), join(tmp, 'pg'));
    await pg.start();
    const admin = new Client({ connectionString: pg.adminUrl });
    await admin.connect();
    await admin.query('CREATE DATABASE alidade');
    await admin.end();
    const databaseUrl = pg.adminUrl.replace(/\/postgres$/, '/alidade');
    api = await spawnApi(drillEnv(databaseUrl, process.env.ALIDADE_TEST_REDIS!));
    token = await loginAdmin(api.url);
    await setupExperimentAndQueue(api.url, token, 'pg-drill', 'pg-drill');
  }, 150_000);

  afterAll(async () => {
    await stopAll([api]);
    await pg?.exit();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('answers 503 (never 500, never a hang) while Postgres is down and 200 again once it is back, without a restart', async () => {
    const samples: Sample[] = [];
    let running = true;
    const archive = markerWorkflow();
    const loop = async (path: string, headers: Record<string, string>) => {
      for (let i = 0; running && i < 5000; i++) {
        const at = Date.now();
        const reply =
          path === 'submit'
            ? await submitMarkerJob(api.url, token, { experiment: 'pg-drill', queue: 'pg-drill', marker: join(tmp, 'never-run') }, archive, 15_000)
            : await call(`${api.url}${path}`, { headers }, 15_000);
        // A submission's success is 201; count it as the 200 of a read.
        samples.push({ ...reply, status: reply.status === 201 ? 200 : reply.status, path, at });
        await sleep(100);
      }
    };
    const loops = [
      loop('/api/v1/queues', bearer(token)),
      loop('/api/v1/queues', bearer(token)),
      loop('/api/v1/experiments', bearer(token)),
      loop('/api/queue/', bearer(token)),
      loop('/health/ready', {}),
      loop('submit', {}),
    ];

    await sleep(2000);
    const downAt = Date.now();
    await pg.stopPostgres(1);
    const stoppedAt = Date.now();
    await sleep(6000);
    const upAt = Date.now();
    await pg.startPostgres(1);
    const startedAt = Date.now();
    // Recovered: every request sent since some moment answered 200, for 2 s in a row; recovery time counts from the
    // start signal to the end of the last non-200 reply.
    let recoveredAt = 0;
    await waitFor(
      'every request to answer 200 again',
      async () => {
        const recent = samples.filter((s) => s.at + s.ms >= upAt);
        const lastBad = recent.filter((s) => s.status !== 200).reduce((m, s) => Math.max(m, s.at + s.ms), upAt);
        const good = recent.filter((s) => s.at > lastBad);
        if (Date.now() - lastBad < 2000 || good.length < 10) return false;
        recoveredAt = lastBad;
        return true;
      },
      30_000,
      200,
    );
    running = false;
    await Promise.all(loops);

    const before = samples.filter((s) => s.at + s.ms < downAt);
    const down = samples.filter((s) => s.at >= stoppedAt && s.at + s.ms < upAt);
    const around = samples.filter((s) => s.at + s.ms >= downAt && s.at < startedAt);
    const statuses = (list: Sample[]) => list.reduce<Record<string, number>>((m, s) => ({ ...m, [s.status]: (m[s.status] ?? 0) + 1 }), {});
    const v1Down = down.find((s) => s.path === '/api/v1/queues' && s.status === 503);
    const dioptraDown = down.find((s) => s.path === '/api/queue/' && s.status === 503);
    const submitDown = down.find((s) => s.path === 'submit' && s.status === 503);
    report('postgres restart', {
      requests: samples.length,
      before: statuses(before),
      whileDown: statuses(down),
      aroundTransitions: statuses(around),
      slowestWhileDownMs: Math.max(...down.map((s) => s.ms)),
      stopTookMs: stoppedAt - downAt,
      postgresStartTookMs: startedAt - upAt,
      recoveryMs: recoveredAt - upAt,
      v1Body: v1Down?.body,
      dioptraBody: dioptraDown?.body,
      submitBody: submitDown?.body,
      readyBody: down.find((s) => s.path === '/health/ready')?.body,
    });
    expect(statuses(before)).toEqual({ 200: before.length });
    // While down: only 503, each within a few seconds.
    expect(down.length).toBeGreaterThan(20);
    expect(statuses(down)).toEqual({ 503: down.length });
    expect(Math.max(...down.map((s) => s.ms))).toBeLessThan(6000);
    expect(v1Down?.body).toMatchObject({ statusCode: 503, error: 'Service Unavailable', code: 'SERVICE_UNAVAILABLE' });
    expect(down.filter((s) => s.path === '/health/ready').length).toBeGreaterThan(0);
    expect(submitDown?.body).toMatchObject({ statusCode: 503, code: 'SERVICE_UNAVAILABLE' });
    expect(dioptraDown?.body).toEqual({ message: expect.stringMatching(/^Service Unavailable/) });
    // Around the transitions too: no 500, no dropped connection, no hang.
    expect(samples.filter((s) => s.status === 0 || s.status === 500 || s.ms >= 6000).map((s) => `${s.path} ${s.status} ${s.ms}ms ${s.error ?? JSON.stringify(s.body)}`)).toEqual([]);
    expect(recoveredAt - upAt).toBeLessThan(15_000);
    expect(api.alive()).toBe(true);
  }, 150_000);
});
