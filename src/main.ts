import { INestApplicationContext, Logger, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from './app/app.module';
import { configureApp } from './app/configure-app';
import { resolveLocalRedis } from './app/embedded-redis';
import { sweepStaleSpools } from './common/upload-spool';
import { AppConfig, ConfigError, ensureDataDir, ensureJwtSecret, ROLES, Role } from './config/config';
import { loadConfigFromEnvironment } from './config/load-environment';
import { EmbeddedService, startEmbeddedPostgres } from './database/embedded-postgres';

const LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];

/** Starts what the config leaves to us: embedded Postgres without DATABASE_URL, a local Redis without REDIS_URL. */
async function startInfrastructure(config: AppConfig, stops: EmbeddedService[]): Promise<void> {
  if (!config.databaseUrl) {
    const pg = await startEmbeddedPostgres(config.dataDir);
    stops.push(pg);
    config.databaseUrl = pg.url;
  }
  if (!config.redisUrl) {
    const redis = await resolveLocalRedis(config.dataDir);
    stops.push(redis);
    config.redisUrl = redis.url;
  }
}

async function main(): Promise<void> {
  const logger = new Logger('Alidade');
  const roleArg = process.argv[2];
  if (roleArg !== undefined && !ROLES.includes(roleArg as Role)) {
    throw new ConfigError(`unknown role "${roleArg}": use one of ${ROLES.join(', ')}`);
  }
  // `.env` in the working directory, then the real environment over it, validated by loadConfig.
  const config = await loadConfigFromEnvironment(roleArg);
  ensureDataDir(config);
  ensureJwtSecret(config);
  const logLevels = LEVELS.slice(0, LEVELS.indexOf(config.logLevel as LogLevel) + 1);
  Logger.overrideLogger(logLevels);
  const stops: EmbeddedService[] = [];
  const stopInfrastructure = async () => {
    for (const s of stops.reverse()) await s.stop().catch((e) => logger.warn(`stopping: ${String(e)}`));
    stops.length = 0;
  };
  try {
    await startInfrastructure(config, stops);
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
    const appOptions = { logger: logLevels, bufferLogs: false };
    let app: INestApplicationContext;
    if (config.role === 'worker') {
      app = await NestFactory.createApplicationContext(root, appOptions);
      await app.init();
      logger.log('worker started');
    } else {
      const http = await NestFactory.create<NestExpressApplication>(root, appOptions);
      await configureApp(http);
      await http.listen(config.port, config.host);
      app = http;
      logger.log(`${config.role} listening on http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${config.port}/ (Swagger UI)`);
    }
    // On SIGTERM/SIGINT: close the app (runs every shutdown hook), then stop what we started.
    let stopping = false;
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.on(signal, () => {
        if (stopping) return;
        stopping = true;
        logger.log(`${signal}: shutting down`);
        void app
          .close()
          .catch((e) => logger.error(`closing: ${String(e)}`))
          .then(stopInfrastructure)
          .then(() => process.exit(0));
      });
    }
  } catch (e) {
    await stopInfrastructure();
    throw e;
  }
}

main().catch((e: unknown) => {
  new Logger('Alidade').error(e instanceof ConfigError ? e.message : e instanceof Error ? (e.stack ?? e.message) : String(e));
  process.exit(1);
});
