// Big workflow transfers through HTTP, as a client makes them: several large uploads and downloads at once succeed
// byte for byte while the app holds no whole archive; uploads are spooled in a 0700 directory per request that is
// gone afterwards — answered, refused (413) or cut off by the client — and a cut-off upload writes no row.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Client } from 'pg';
import { makeTarGz } from './utils/archives';
import { ADMIN_PASSWORD, login, startApp, TestApp } from './utils/harness';
import { createExperimentAndQueue } from './utils/jobs-fixtures';

const MiB = 1024 * 1024;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
setFlagsFromString('--expose_gc');
const gc: () => void = runInNewContext('gc');
/** Heap and buffers really retained (after a collection), in bytes. */
const retained = () => {
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
};

interface Sent {
  status: number | null;
  body: string;
}

/**
 * POST /api/v1/jobs with a hand-made multipart body, the archive written in 256 KiB slices as the socket drains (no
 * copy of it is made). `cutAfter` bytes of the archive are sent and then the connection is destroyed.
 */
function upload(url: string, token: string, archive: Buffer, opts: { cutAfter?: number; onCut?: () => Promise<void> } = {}): Promise<Sent> {
  const boundary = `----t${randomBytes(8).toString('hex')}`;
  const fields = { experimentName: 'big', queue: 'big', entryPoint: 'main' };
  const head = Buffer.from(
    Object.entries(fields)
      .map(([k, v]) => `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`)
      .join('') + `--${boundary}\r\nContent-Disposition: form-data; name="workflow"; filename="big.tar.gz"\r\nContent-Type: application/gzip\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    let status: number | null = null;
    const parts: Buffer[] = [];
    const req = request({
      host: hostname,
      port,
      method: 'POST',
      path: '/api/v1/jobs',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': `multipart/form-data; boundary=${boundary}`, 'Content-Length': String(head.length + archive.length + tail.length) },
    });
    req.on('response', (res) => {
      status = res.statusCode ?? null;
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status, body: Buffer.concat(parts).toString() }));
    });
    req.on('error', () => resolve({ status, body: Buffer.concat(parts).toString() }));
    const end = opts.cutAfter ?? archive.length;
    const write = async () => {
      if (!req.write(head)) await new Promise((r) => req.once('drain', r));
      for (let off = 0; off < end && !req.destroyed; off += 256 * 1024) {
        if (!req.write(archive.subarray(off, Math.min(off + 256 * 1024, end)))) await new Promise((r) => req.once('drain', r));
      }
      if (opts.cutAfter === undefined) return void req.end(tail);
      await opts.onCut?.();
      req.destroy();
    };
    void write();
  });
}

/** GET a job's workflow, hashed as it arrives (nothing kept). */
function download(url: string, token: string, jobId: string): Promise<{ status: number; size: number; sha256: string; length: string | undefined }> {
  return new Promise((resolve, reject) => {
    request(`${url}/api/v1/jobs/${jobId}/workflow`, { headers: { Authorization: `Bearer ${token}` } }, (res) => {
      const hash = createHash('sha256');
      let size = 0;
      res.on('data', (c: Buffer) => {
        hash.update(c);
        size += c.length;
      });
      res.on('end', () => resolve({ status: res.statusCode!, size, sha256: hash.digest('hex'), length: res.headers['content-length'] }));
    })
      .on('error', reject)
      .end();
  });
}

async function waitFor(what: string, check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('big workflow uploads and downloads', () => {
  let t: TestApp;
  let url: string;
  let token: string;
  let spool: string;
  let pg: Client;
  let archive: Buffer;

  const spooled = () => readdirSync(spool);
  const counts = async () =>
    (await pg.query(`SELECT (SELECT count(*) FROM job)::int AS jobs, (SELECT count(*) FROM blob)::int AS blobs, (SELECT count(*) FROM blob_chunk)::int AS chunks`)).rows[0];

  beforeAll(async () => {
    spool = mkdtempSync(join(tmpdir(), 'alidade-spool-'));
    t = await startApp({ env: { UPLOAD_TMPDIR: spool, MAX_WORKFLOW_BYTES: String(40 * MiB) } });
    await t.app.listen(0, '127.0.0.1');
    url = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
    token = await login(t, 'admin', ADMIN_PASSWORD);
    await createExperimentAndQueue(t, token, 'big', 'big');
    pg = new Client({ connectionString: t.databaseUrl });
    await pg.connect();
    // Incompressible padding, so the archive is as big on the wire as on disk.
    archive = makeTarGz({ MLproject: 'name: big\nentry_points:\n  main:\n    command: "true"\n', 'padding.bin': randomBytes(24 * MiB) });
  }, 60_000);

  afterAll(async () => {
    await pg?.end();
    await t?.close();
    if (spool) rmSync(spool, { recursive: true, force: true });
  });

  it('four 24 MiB uploads at once, then four downloads at once: byte-exact, with no whole archive held', async () => {
    // Warm-up: code loaded on first use and the connection pool are not what is measured.
    const warm = await upload(url, token, archive);
    expect(warm.status).toBe(201);
    await download(url, token, JSON.parse(warm.body).job.id);
    const base = retained();
    const peaks = { upload: 0, download: 0 };
    let phase: keyof typeof peaks = 'upload';
    // A full collection per sample is costly (a few hundred ms on a loaded machine): sample once a second.
    let samples = 0;
    const sampler = setInterval(() => {
      peaks[phase] = Math.max(peaks[phase], retained() - base);
      samples++;
    }, 1000);
    let got: Array<Awaited<ReturnType<typeof download>>>;
    try {
      const sent = await Promise.all([0, 1, 2, 3].map(() => upload(url, token, archive)));
      expect(sent.map((s) => s.status)).toEqual([201, 201, 201, 201]);
      phase = 'download';
      got = await Promise.all(sent.map((s) => download(url, token, JSON.parse(s.body).job.id)));
    } finally {
      clearInterval(sampler);
    }
    for (const g of got) expect(g).toEqual({ status: 200, size: archive.length, sha256: sha(archive), length: String(archive.length) });
    expect(samples).toBeGreaterThan(2);
    // Holding the archives would retain 4 × 24 MiB or more at some point; streamed, what is in flight is a few MiB each.
    expect(peaks.upload).toBeLessThan(48 * MiB);
    expect(peaks.download).toBeLessThan(48 * MiB);
    await waitFor('the spool directories to be removed', () => spooled().length === 0, 3000);
    expect((await counts()).chunks).toBe(5 * Math.ceil(archive.length / MiB));
  }, 300_000);

  it('spools an upload in progress in a 0700 directory of its own; a cut-off upload leaves no file and no row', async () => {
    const before = await counts();
    let seen: { entries: number; mode: number; bytes: number } | undefined;
    const sent = await upload(url, token, archive, {
      cutAfter: 12 * MiB,
      onCut: async () => {
        // While the body is still coming: one directory, only the server may enter it, the archive growing in it.
        await waitFor('the spooled file', () => {
          const dirs = spooled();
          if (dirs.length !== 1) return false;
          const files = readdirSync(join(spool, dirs[0]));
          return files.length === 1 && statSync(join(spool, dirs[0], files[0])).size > 8 * MiB;
        }, 60_000);
        const dir = join(spool, spooled()[0]);
        seen = { entries: spooled().length, mode: statSync(dir).mode & 0o777, bytes: statSync(join(dir, readdirSync(dir)[0])).size };
      },
    });
    expect(sent.status).toBeNull();
    expect(seen).toMatchObject({ entries: 1, mode: 0o700 });
    await waitFor('the spool directory to be removed', () => spooled().length === 0);
    await new Promise((r) => setTimeout(r, 500)); // anything still done with the partial body would be written by now
    expect(await counts()).toEqual(before);
  }, 120_000);

  it('several cut-off uploads at once, at different points, leave nothing either; the app still accepts one after', async () => {
    const before = await counts();
    const cuts = await Promise.all([0.01, 0.3, 0.6, 0.99].map((f) => upload(url, token, archive, { cutAfter: Math.floor(archive.length * f), onCut: () => new Promise((r) => setTimeout(r, 300)) })));
    expect(cuts.map((c) => c.status)).toEqual([null, null, null, null]);
    await waitFor('every spool directory to be removed', () => spooled().length === 0);
    await new Promise((r) => setTimeout(r, 500));
    expect(await counts()).toEqual(before);
    expect((await upload(url, token, archive)).status).toBe(201);
    // Removed once the reply is settled (asynchronously, just after it is sent).
    await waitFor('the spool directory of the accepted upload to be removed', () => spooled().length === 0, 3000);
  }, 120_000);

  it('an upload over MAX_WORKFLOW_BYTES is 413 naming the limit, and its spooled part is removed', async () => {
    const before = await counts();
    const big = Buffer.concat([archive, randomBytes(17 * MiB)]);
    const sent = await upload(url, token, big);
    expect(sent.status).toBe(413);
    expect(JSON.parse(sent.body)).toMatchObject({ statusCode: 413, code: 'PAYLOAD_TOO_LARGE' });
    expect(JSON.parse(sent.body).message).toContain(String(40 * MiB));
    await waitFor('the spool directory to be removed', () => spooled().length === 0, 3000);
    expect(await counts()).toEqual(before);
  }, 120_000);
});
