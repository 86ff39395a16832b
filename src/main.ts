import { INestApplicationContext, Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppModule } from './app/app.module';
import { AppLogger } from './app/app-logger';
import { redactUrl, startBanner } from './app/banner';
import { configureApp } from './app/configure-app';
import { resolveLocalRedis } from './app/embedded-redis';
import { CommandError, resetPasswordCommand } from './cli/reset-password';
import { tolerateRejectionsWhileStopping } from './common/stopping';
import { sweepStaleSpools } from './common/upload-spool';
import { AppConfig, ConfigError, ensureDataDir, ensureJwtSecret, ROLES, Role } from './config/config';
import { loadConfigFromEnvironment } from './config/load-environment';
import { EmbeddedService, startEmbeddedPostgres } from './database/embedded-postgres';
import { SandboxService } from './sandbox/sandbox.service';
import { UsersService } from './users/users.service';

/**
 * After SIGTERM/SIGINT the process exits by this deadline whatever is still stopping (a job that ignores SIGTERM is
 * killed after JobProcess.killGraceMs, 10 s, and its outcome written): what it started is killed, exit code 1.
 */
export const SHUTDOWN_DEADLINE_MS = 20_000;

const logger = new Logger('Alidade');

/** What the process started and must stop, and the app once it exists. */
class Lifecycle {
  readonly services: EmbeddedService[] = [];
  app?: INestApplicationContext;
  stopping = false;

  /** Signals are handled from the first moment, so a Ctrl-C during the start stops what is already started. */
  install(): void {
    for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
      process.on(signal, () => {
        if (this.stopping) {
          logger.warn(`${signal} again: exiting now`);
          this.killAll();
          process.exit(130);
        }
        this.stopping = true;
        logger.log(`${signal}: stopping (jobs, then the app, then what it started; at most ${SHUTDOWN_DEADLINE_MS / 1000} s)`);
        setTimeout(() => {
          logger.error(`still stopping after ${SHUTDOWN_DEADLINE_MS / 1000} s: exiting anyway`);
          this.killAll();
          process.exit(1);
        }, SHUTDOWN_DEADLINE_MS).unref();
        // Before the app exists main() sees `stopping` after its current step and unwinds.
        if (this.app) void this.stop().then(() => process.exit(0));
      });
    }
  }

  async stop(): Promise<void> {
    tolerateRejectionsWhileStopping((e) => logger.debug(`while stopping: ${describeError(e)}`));
    await this.app?.close().catch((e: unknown) => logger.error(`closing: ${describeError(e)}`));
    this.app = undefined;
    await this.stopServices();
  }

  async stopServices(): Promise<void> {
    for (const s of this.services.reverse()) await s.stop().catch((e: unknown) => logger.warn(`stopping: ${describeError(e)}`));
    this.services.length = 0;
  }

  killAll(): void {
    for (const s of this.services) s.kill();
  }

  /** Between start steps: a signal that came during the start ends it here. */
  check(): void {
    if (this.stopping) throw new StoppedDuringStart();
  }
}

class StoppedDuringStart extends Error {}

/** Starts what the config leaves to us: embedded Postgres without DATABASE_URL, a local Redis without REDIS_URL. */
async function startInfrastructure(config: AppConfig, life: Lifecycle): Promise<{ database: string; redis: string }> {
  let database = config.databaseUrl ? redactUrl(config.databaseUrl) : '';
  let redis = config.redisUrl ? redactUrl(config.redisUrl) : '';
  if (!config.databaseUrl) {
    const pg = await startEmbeddedPostgres(config.dataDir);
    life.services.push(pg);
    config.databaseUrl = pg.url;
    database = pg.describe;
    life.check();
  }
  if (!config.redisUrl) {
    const r = await resolveLocalRedis(config.dataDir);
    life.services.push(r);
    config.redisUrl = r.url;
    redis = r.describe;
    life.check();
  }
  return { database, redis };
}

async function serve(roleArg: string | undefined): Promise<void> {
  if (roleArg !== undefined && !ROLES.includes(roleArg as Role)) {
    throw new ConfigError(`unknown role or command "${roleArg}": use one of ${ROLES.join(', ')}, or reset-password <username>`);
  }
  // `.env` in the working directory, then the real environment over it, validated by loadConfig.
  const config = await loadConfigFromEnvironment(roleArg);
  const appLogger = new AppLogger(config.logLevel);
  Logger.overrideLogger(appLogger);
  ensureDataDir(config);
  ensureJwtSecret(config);
  const life = new Lifecycle();
  life.install();
  try {
    const infra = await startInfrastructure(config, life);
    if (config.role !== 'worker') {
      const swept = await sweepStaleSpools(config.uploadTmpdir);
      if (swept > 0) logger.warn(`removed ${swept} upload spool director${swept === 1 ? 'y' : 'ies'} left by an earlier process`);
    }
    if (config.authDisabled) {
      logger.warn(
        `AUTH_DISABLED=true: every request acts as the bootstrap admin. Use only on a closed lab network. Listening on ${config.host}` +
          (config.host === '127.0.0.1' ? ' (loopback only; set HOST to listen elsewhere).' : ' (HOST is set).'),
      );
    }
    const root = AppModule.forRole(config.role, config);
    // abortOnError off: a failing start throws here (and is reported with its cause) instead of process.abort().
    const appOptions = { logger: appLogger, abortOnError: false };
    if (config.role === 'worker') {
      life.app = await NestFactory.createApplicationContext(root, appOptions);
      await life.app.init();
    } else {
      const http = await NestFactory.create<NestExpressApplication>(root, appOptions);
      life.app = http;
      await configureApp(http);
      await http.listen(config.port, config.host);
    }
    life.check();
    const users = config.role === 'worker' ? undefined : life.app.get(UsersService, { strict: false });
    const sandbox = config.role === 'api' ? undefined : life.app.get(SandboxService, { strict: false });
    const dashboard = config.role !== 'worker' && (await answers(`http://${config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host}:${config.port}/ui`));
    const banner = startBanner({ config, ...infra, sandbox: sandbox?.mode, adminPassword: users?.generatedAdminPassword, version: version(), dashboard });
    if (users) users.generatedAdminPassword = undefined;
    logger.log(banner.lines.join('\n'));
    if (banner.password) logger.warn(`\n${banner.password.join('\n')}`);
    logger.log(config.role === 'worker' ? 'worker started' : `${config.role} listening on http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${config.port}/ (Swagger UI)`);
  } catch (e) {
    await life.stop();
    if (e instanceof StoppedDuringStart) process.exit(0);
    throw e;
  }
}

/** Whether the server's own URL answers (not 4xx/5xx) within a second. */
async function answers(url: string): Promise<boolean> {
  try {
    return (await fetch(url, { method: 'HEAD', redirect: 'manual', signal: AbortSignal.timeout(1000) })).status < 400;
  } catch {
    return false;
  }
}

function version(): string {
  try {
    return (JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '';
  }
}

/** An error's message with its causes (AggregateError's too: a refused connection to `localhost` has no message). */
export function describeError(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const parts: string[] = [];
  let cur: unknown = e;
  for (let depth = 0; cur instanceof Error && depth < 5; depth++) {
    const inner = cur instanceof AggregateError ? cur.errors.map((x) => describeError(x)).join('; ') : '';
    const code = (cur as { code?: string }).code;
    parts.push([cur.message || cur.name, code && !cur.message.includes(code) ? `(${code})` : '', inner ? `[${inner}]` : ''].filter(Boolean).join(' '));
    cur = cur.cause;
  }
  if (cur !== undefined && !(cur instanceof Error)) parts.push(String(cur));
  return parts.join(': caused by ');
}

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  if (command === 'reset-password') return resetPasswordCommand(rest);
  return serve(command);
}

main().catch((e: unknown) => {
  const known = e instanceof ConfigError || e instanceof CommandError;
  const what = process.argv[2] === 'reset-password' ? 'reset-password failed' : 'could not start';
  logger.error(known ? (e as Error).message : `${what}: ${describeError(e)}`);
  if (!known && e instanceof Error && e.stack) logger.debug(e.stack);
  process.exit(1);
});
