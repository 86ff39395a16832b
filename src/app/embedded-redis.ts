import { Logger } from '@nestjs/common';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, redisAnswers } from '../common/net';
import type { EmbeddedService } from '../database/embedded-postgres';

/**
 * No REDIS_URL: use the local Redis on 6379 when one answers, else spawn `redis-server` from PATH with its files in
 * `<dataDir>/redis`, else stop with a message that says what to do. A spawned one runs in a process group of its own
 * (a Ctrl-C reaches only Alidade, which stops it last); one left by an Alidade that was killed is stopped first.
 */
export async function resolveLocalRedis(dataDir: string): Promise<EmbeddedService> {
  const logger = new Logger('EmbeddedRedis');
  if (await redisAnswers('127.0.0.1', 6379)) {
    return { url: 'redis://127.0.0.1:6379', describe: 'redis://127.0.0.1:6379 (the local Redis)', stop: async () => undefined, kill: () => undefined };
  }
  if (spawnSync('redis-server', ['--version']).error) {
    throw new Error(
      'No Redis answers on 127.0.0.1:6379 and redis-server is not on PATH. Install Redis (Debian: apt-get install redis-server) or set REDIS_URL.',
    );
  }
  const dir = join(dataDir, 'redis');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const pidFile = join(dir, 'redis.pid');
  await stopLeftOver(pidFile, logger);
  // Anything on this machine reaches 127.0.0.1 (a job on a queue with the network too): a password, kept in DATA_DIR.
  const passwordFile = join(dataDir, 'redis-password');
  if (!existsSync(passwordFile)) writeFileSync(passwordFile, randomBytes(24).toString('hex'), { mode: 0o600 });
  const password = readFileSync(passwordFile, 'utf8').trim();
  const port = await freePort();
  // The password goes in on stdin as a config line, never on the command line (ps shows that to everyone).
  const child = spawn(
    'redis-server',
    ['-', '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--pidfile', pidFile],
    { stdio: ['pipe', 'ignore', 'ignore'], detached: true },
  );
  child.stdin!.end(`requirepass ${password}\n`);
  let exited: string | null = null;
  child.once('exit', (code, sig) => (exited = sig ?? `code ${code}`));
  for (let i = 0; i < 100 && !exited && !(await redisAnswers('127.0.0.1', port)); i++) await new Promise((r) => setTimeout(r, 50));
  if (exited) throw new Error(`the redis-server Alidade started exited at once (${exited}); run \`redis-server --port ${port}\` to see why, or set REDIS_URL`);
  logger.log(`started redis-server on 127.0.0.1:${port}`);
  const alive = () => child.exitCode === null && child.signalCode === null;
  return {
    url: `redis://:${password}@127.0.0.1:${port}`,
    describe: `redis://127.0.0.1:${port} (a redis-server Alidade started, files in ${dir})`,
    stop: async () => {
      if (!alive()) return;
      const gone = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(timer);
    },
    kill: () => {
      if (alive()) child.kill('SIGKILL');
    },
  };
}

/**
 * For commands beside a server (reset-password): the Redis a server of this DATA_DIR would use when REDIS_URL is
 * unset — the local one on 6379, or the redis-server it spawned while it runs — or null when there is none.
 */
export async function findLocalRedis(dataDir: string): Promise<string | null> {
  if (await redisAnswers('127.0.0.1', 6379)) return 'redis://127.0.0.1:6379';
  const pidFile = join(dataDir, 'redis', 'redis.pid');
  const passwordFile = join(dataDir, 'redis-password');
  if (!existsSync(pidFile) || !existsSync(passwordFile)) return null;
  let cmd = '';
  try {
    cmd = readFileSync(`/proc/${Number(readFileSync(pidFile, 'utf8').trim())}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return null;
  }
  const port = /redis-server.*:(\d+)/.exec(cmd)?.[1] ?? /--port (\d+)/.exec(cmd)?.[1];
  if (!port || !(await redisAnswers('127.0.0.1', Number(port)))) return null;
  return `redis://:${readFileSync(passwordFile, 'utf8').trim()}@127.0.0.1:${port}`;
}

/** A redis-server an earlier (killed) Alidade started from this DATA_DIR. */
async function stopLeftOver(pidFile: string, logger: Logger): Promise<void> {
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  const cmd = (() => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      return null;
    }
  })();
  if (pid > 0 && cmd?.includes('redis-server')) {
    logger.warn(`a redis-server left running by an earlier Alidade (pid ${pid}): stopping it`);
    process.kill(pid, 'SIGTERM');
    for (let i = 0; i < 50 && existsSync(`/proc/${pid}`); i++) await new Promise((r) => setTimeout(r, 100));
  }
  rmSync(pidFile, { force: true });
}
