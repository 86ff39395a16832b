// `node dist/main.js reset-password <username> [--stdin]`: a new password for a user, for an admin who lost theirs.
// Same configuration as the server (.env, then the environment): DATABASE_URL, else the embedded Postgres of
// DATA_DIR — started for the change and stopped after when the server is stopped, or the running server's own —
// and its Redis (REDIS_URL, else the local one), through which a running server's token cache hears the revocation.
// Logs go to standard error; standard output's last line is the new password alone.
import { Logger, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { AppLogger } from '../app/app-logger';
import { findLocalRedis } from '../app/embedded-redis';
import { AppConfigModule } from '../config/app-config.module';
import { AppConfig } from '../config/config';
import { loadConfigFromEnvironment } from '../config/load-environment';
import { DatabaseModule } from '../database/database.module';
import { RedisModule } from '../redis/redis.module';
import { clusterDir, EmbeddedService, startEmbeddedPostgres } from '../database/embedded-postgres';
import { UserNotFoundError } from '../users/users.errors';
import { UsersModule } from '../users/users.module';
import { UsersService } from '../users/users.service';

export const RESET_PASSWORD_USAGE =
  'usage: node dist/main.js reset-password <username> [--stdin]   (npm run reset-password -- <username>)\n' +
  '  sets a new random password (or the one read from standard input with --stdin), prints it on the last line of\n' +
  '  standard output and revokes the user\'s login sessions and access tokens';

/** Thrown for what the operator must fix; main prints the message alone and exits 1. */
export class CommandError extends Error {}

@Module({})
class ResetPasswordModule {
  static forConfig(config: AppConfig) {
    return { module: ResetPasswordModule, imports: [AppConfigModule.forRoot(config), DatabaseModule, RedisModule, UsersModule] };
  }
}

export async function resetPasswordCommand(args: string[], stdin: NodeJS.ReadableStream = process.stdin): Promise<void> {
  const flags = args.filter((a) => a.startsWith('-'));
  const names = args.filter((a) => !a.startsWith('-'));
  const unknown = flags.filter((f) => f !== '--stdin');
  if (names.length !== 1 || unknown.length > 0) throw new CommandError(`${unknown.length ? `unknown option ${unknown[0]}\n` : ''}${RESET_PASSWORD_USAGE}`);
  const [username] = names;
  // The command signs no token: a production machine without JWT_SECRET (a worker's) may still run it.
  const config = await loadConfigFromEnvironment('all', process.cwd(), { JWT_SECRET: 'reset-password-signs-no-token'.padEnd(32, '.') });
  // Redis carries the revocation to a running server's token cache at once (without it, that cache forgets within a
  // second). No Redis reachable: no server is using one here, so there is nobody to tell; its warnings would be noise.
  let quiet = false;
  if (!config.redisUrl) {
    const found = await findLocalRedis(config.dataDir);
    config.redisUrl = found ?? 'redis://127.0.0.1:1';
    quiet = found === null;
  }
  const level = quiet ? 'error' : config.logLevel === 'log' ? 'warn' : config.logLevel;
  const logger = new AppLogger(level, true);
  Logger.overrideLogger(logger);

  const password = flags.includes('--stdin') ? await readPassword(stdin) : randomBytes(12).toString('base64url');
  if (password.length < 8 || password.length > 1024) throw new CommandError('the password must be 8 to 1024 characters');

  const services: EmbeddedService[] = [];
  try {
    if (!config.databaseUrl) {
      if (!existsSync(join(clusterDir(config.dataDir), 'PG_VERSION'))) {
        throw new CommandError(
          `no embedded database for DATA_DIR=${config.dataDir} (${clusterDir(config.dataDir)} holds no cluster): start the server once first, ` +
            'or run this command with the same DATA_DIR or DATABASE_URL as the server',
        );
      }
      const pg = await startEmbeddedPostgres(config.dataDir, { attachToRunning: true });
      services.push(pg);
      config.databaseUrl = pg.url;
    }
    const app = await NestFactory.createApplicationContext(ResetPasswordModule.forConfig(config), { logger, abortOnError: false });
    try {
      const user = await app.get(UsersService).resetPassword(username, password);
      process.stderr.write(`The password of "${user.username}" is reset; their login sessions and access tokens are revoked. The new password:\n`);
    } catch (e) {
      if (e instanceof UserNotFoundError) throw new CommandError(`no user named "${username}"`);
      throw e;
    } finally {
      await app.close();
    }
  } finally {
    for (const s of services.reverse()) await s.stop();
  }
  process.stdout.write(`${password}\n`);
}

/** The whole of standard input, without its final line break. */
async function readPassword(stdin: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}
