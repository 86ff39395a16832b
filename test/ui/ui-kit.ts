// The dashboard's browser tests: a real `node dist/main.js` (role all: API + worker) on a free port with a database
// and Redis prefix of its own, Debian's Chromium through playwright-core, and small API helpers for the setup.
import { AxeBuilder } from '@axe-core/playwright';
import { ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { createDatabase, freePort, testEnv } from '../utils/harness';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SCREENSHOTS = join(__dirname, 'screenshots');
export const BROWSER_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export interface Server {
  base: string;
  child: ChildProcess;
  output: () => string;
  stop: () => Promise<void>;
}

export async function startServer(env: Record<string, string> = {}): Promise<Server> {
  const tmp = mkdtempSync(join(tmpdir(), 'alidade-ui-srv-'));
  const port = await freePort();
  const e = testEnv(await createDatabase(), { PORT: String(port), HOST: '127.0.0.1', ALIDADE_ROLE: 'all', JOB_WORKDIR: join(tmp, 'jobs'), DATA_DIR: join(tmp, 'data'), LOG_LEVEL: 'warn', ...env });
  mkdirSync(join(tmp, 'data'), { mode: 0o700 });
  const child = spawn(process.execPath, [join(__dirname, '..', '..', 'dist', 'main.js')], { env: e, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited: ${out}`);
    const ok = await fetch(`${base}/health`).then((r) => r.ok).catch(() => false);
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`server did not answer: ${out}`);
    await sleep(200);
  }
  return {
    base,
    child,
    output: () => out,
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function waitFor<T>(what: string, f: () => Promise<T | undefined | null | false>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f().catch(() => undefined);
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(150);
  }
}

/** A small API client for test setup (the browser is what the tests assert on). */
export class Api {
  constructor(
    readonly base: string,
    public token = '',
  ) {}

  async login(username: string, password: string): Promise<this> {
    const r = await this.call<{ token: string }>('POST', '/api/v1/auth/login', { username, password });
    this.token = r.token;
    return this;
  }

  async call<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(this.base + path, {
      method,
      headers: { ...(this.token ? { Authorization: `Bearer ${this.token}` } : {}), ...(body !== undefined && !(body instanceof FormData) ? { 'Content-Type': 'application/json' } : {}) },
      body: body === undefined ? undefined : body instanceof FormData ? body : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return (text ? JSON.parse(text) : {}) as T;
  }

  async submit(fields: { experimentId: number; queueId: number; entryPoint: string; parameters?: Record<string, string>; archive: Buffer; dependsOn?: string }): Promise<{ id: string; status: string }> {
    const form = new FormData();
    form.append('experimentId', String(fields.experimentId));
    form.append('queueId', String(fields.queueId));
    form.append('entryPoint', fields.entryPoint);
    form.append('parameters', JSON.stringify(fields.parameters ?? {}));
    if (fields.dependsOn) form.append('dependsOn', fields.dependsOn);
    form.append('workflow', new Blob([new Uint8Array(fields.archive)]), 'workflow.tar.gz');
    return (await this.call<{ job: { id: string; status: string } }>('POST', '/api/v1/jobs', form)).job;
  }

  job(id: string): Promise<{ id: string; status: string; mlflowRunId: string | null }> {
    return this.call<{ job: { id: string; status: string; mlflowRunId: string | null } }>('GET', `/api/v1/jobs/${id}`).then((r) => r.job);
  }

  waitStatus(id: string, statuses: string[], ms = 60_000): Promise<string> {
    return waitFor(`job ${id} to be ${statuses.join('/')}`, async () => {
      const j = await this.job(id);
      return statuses.includes(j.status) ? j.status : null;
    }, ms);
  }
}

export async function launch(): Promise<BrowserContext> {
  return chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'alidade-ui-')), {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1440, height: 900 },
    args: BROWSER_ARGS,
  });
}

/** Logs a fresh tab in through the login page (sessionStorage is per tab). */
export async function loginPage(ctx: BrowserContext, base: string, username: string, password: string, path = '/ui/'): Promise<Page> {
  const page = await ctx.newPage();
  await page.goto(base + path);
  await page.getByRole('textbox', { name: 'Username' }).fill(username);
  await page.getByRole('textbox', { name: 'Password' }).fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('button', { name: 'Log out' }).waitFor();
  return page;
}

/** axe-core over the page (WCAG 2.0/2.1 A and AA, or only the rules named): the serious and critical violations. */
export async function axeProblems(page: Page, only?: string[]): Promise<string[]> {
  const builder = new AxeBuilder({ page });
  const r = await (only ? builder.withRules(only) : builder.withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])).analyze();
  return r.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
}

/** The axe rules whose outcome depends on colours: all a second theme can change on the same DOM. */
export const COLOUR_RULES = ['color-contrast', 'link-in-text-block'];
