import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../config/config';
import { FORWARD_SOCKET_DIR, ForwardLease, ForwardNamespaces } from './forward-namespaces';
import { systemBinds } from './system-binds';
import { UidPool } from './uid-pool';

const config = loadConfig();
const bwrap = config.sandbox.bwrapPath;
const root = process.getuid?.() === 0;
// Needs what a root worker with bubblewrap has (CI: .ci/run installs it).
const describeRoot = root && bwrap ? describe : describe.skip;

/** What a job in the namespace gets from http://127.0.0.1:5000<path> (bash's /dev/tcp, no curl needed). */
function fetchInside(lease: ForwardLease, path: string): Promise<string> {
  const script = `exec 3<>/dev/tcp/127.0.0.1/5000 && printf 'GET ${path} HTTP/1.0\\r\\n\\r\\n' >&3 && tail -n 1 <&3`;
  return new Promise((resolve) => {
    const child = execFile('nsenter', [`--net=${lease.netns}`, '--', 'bash', '--norc', '-c', script], { env: { PATH: config.jobBaseEnv.PATH } }, (e, out, err) =>
      resolve(e ? `failed: ${String(err).trim()}` : out.trim()),
    );
    child.stdin?.end();
  });
}

describeRoot('ForwardNamespaces (root, bubblewrap)', () => {
  let server: Server;
  let port: number;
  let locks: string;
  let pool: UidPool;
  let forwards: ForwardNamespaces;

  beforeAll(async () => {
    server = createServer((req, res) => res.end(`seen ${req.url}`));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
    locks = mkdtempSync(join(tmpdir(), 'fwd-uids-'));
    pool = new UidPool(config.sandbox.uidRange.first, config.sandbox.uidRange.last, locks);
    forwards = new ForwardNamespaces({ bwrap: bwrap!, socat: null, systemArgs: systemBinds(), acquireUid: () => pool.acquire(), releaseUid: (u) => pool.release(u) });
  });

  afterAll(async () => {
    forwards.close();
    server.close();
    rmSync(locks, { recursive: true, force: true });
  });

  it('serves the target on 127.0.0.1:5000 inside, one job per namespace at a time, reused after release', async () => {
    const a = await forwards.lease({ host: '127.0.0.1', port });
    const b = await forwards.lease({ host: '127.0.0.1', port });
    expect(a.netns).not.toBe(b.netns);
    expect(readlinkSync(a.netns)).not.toBe(readlinkSync('/proc/self/ns/net'));
    expect(await fetchInside(a, '/a')).toBe('seen /a');
    expect(await fetchInside(b, '/b')).toBe('seen /b');
    a.release();
    const c = await forwards.lease({ host: '127.0.0.1', port });
    expect(c.netns).toBe(a.netns);
    b.release();
    c.release();
  });

  it('starts a new namespace when a forwarder died, and stops them all at close', async () => {
    const a = await forwards.lease({ host: '127.0.0.1', port });
    const pid = Number(/\/proc\/(\d+)\//.exec(a.netns)![1]);
    a.release();
    process.kill(pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 100));
    const b = await forwards.lease({ host: '127.0.0.1', port });
    expect(b.netns).not.toBe(a.netns);
    expect(await fetchInside(b, '/again')).toBe('seen /again');
    b.release();
    const mine = () => readdirSync(FORWARD_SOCKET_DIR).filter((n) => n.startsWith(`${process.pid}-`));
    expect(mine().length).toBeGreaterThan(0);
    forwards.close();
    await new Promise((r) => setTimeout(r, 200));
    expect(mine()).toEqual([]);
    expect(readdirSync(locks)).toEqual([]);
  });
});
