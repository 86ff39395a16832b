import { Logger } from '@nestjs/common';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, redisAnswers } from '../common/net';
import type { EmbeddedService } from '../database/embedded-postgres';

/**
 * No REDIS_URL: use the local Redis on 6379 when one answers, else spawn `redis-server` from PATH with its files in
 * `<dataDir>/redis`, else stop with a message that says what to do.
 */
export async function resolveLocalRedis(dataDir: string): Promise<EmbeddedService> {
  const logger = new Logger('EmbeddedRedis');
  if (await redisAnswers('127.0.0.1', 6379)) return { url: 'redis://127.0.0.1:6379', stop: async () => undefined };
  if (spawnSync('redis-server', ['--version']).error) {
    throw new Error(
      'No Redis answers on 127.0.0.1:6379 and redis-server is not on PATH. Install Redis (Debian: apt-get install redis-server) or set REDIS_URL.',
    );
  }
  const dir = join(dataDir, 'redis');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // Anything on this machine reaches 127.0.0.1 (a job on a queue with the network too): a password, kept in DATA_DIR.
  const passwordFile = join(dataDir, 'redis-password');
  if (!existsSync(passwordFile)) writeFileSync(passwordFile, randomBytes(24).toString('hex'), { mode: 0o600 });
  const password = readFileSync(passwordFile, 'utf8').trim();
  const port = await freePort();
  // The password goes in on stdin as a config line, never on the command line (ps shows that to everyone).
  const child = spawn('redis-server', ['-', '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'], {
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  child.stdin!.end(`requirepass ${password}\n`);
  for (let i = 0; i < 100 && !(await redisAnswers('127.0.0.1', port)); i++) await new Promise((r) => setTimeout(r, 50));
  logger.log(`started redis-server on 127.0.0.1:${port}`);
  return {
    url: `redis://:${password}@127.0.0.1:${port}`,
    stop: async () => {
      child.kill('SIGTERM');
    },
  };
}
