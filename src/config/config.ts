// Owns the process configuration: the only module that reads process.env. Everything else injects AppConfig.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { plainToInstance, Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, Matches, Max, Min, MinLength, validateSync } from 'class-validator';

export const ROLES = ['api', 'worker', 'all'] as const;
export type Role = (typeof ROLES)[number];

const toInt = ({ value }: { value: unknown }) => (value === undefined || value === '' ? undefined : Number(value));
const toBool = ({ value }: { value: unknown }) => {
  if (value === undefined || value === '') return undefined;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  return value; // left as a string so IsBoolean names the variable
};

const HTTP_URL = /^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/;

/** The environment as validated at boot. Field names are the variable names. */
class EnvSchema {
  @IsOptional() @Transform(toInt) @IsInt() @Min(0) @Max(65535) PORT?: number;
  @IsOptional() @IsString() HOST?: string;
  @IsOptional() @IsIn(ROLES) ALIDADE_ROLE?: Role;
  @IsOptional() @IsIn(['development', 'production', 'test']) NODE_ENV?: string;
  @IsOptional() @Matches(/^postgres(ql)?:\/\//, { message: 'DATABASE_URL must be a postgres:// URL' }) DATABASE_URL?: string;
  @IsOptional() @Matches(/^rediss?:\/\//, { message: 'REDIS_URL must be a redis:// URL' }) REDIS_URL?: string;
  @IsOptional() @IsString() @Matches(/^[A-Za-z0-9_:.-]+$/) REDIS_PREFIX?: string;
  @IsOptional() @IsString() DATA_DIR?: string;
  @IsOptional() @IsString() @MinLength(32, { message: 'JWT_SECRET must be at least 32 characters' }) JWT_SECRET?: string;
  @IsOptional() @IsString() @MinLength(8, { message: 'ADMIN_PASSWORD must be at least 8 characters' }) ADMIN_PASSWORD?: string;
  @IsOptional() @Transform(toBool) @IsBoolean() AUTH_DISABLED?: boolean;
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) LOGIN_RATE_LIMIT?: number;
  @IsOptional() @IsString() WORKER_QUEUES?: string;
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(256) WORKER_CONCURRENCY?: number;
  @IsOptional() @IsString() JOB_WORKDIR?: string;
  @IsOptional() @Transform(toBool) @IsBoolean() KEEP_JOB_WORKDIRS?: boolean;
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) MAX_WORKFLOW_BYTES?: number;
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) MAX_PLUGIN_BYTES?: number;
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) MAX_EXTRACTED_BYTES?: number;
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) MAX_ARCHIVE_ENTRIES?: number;
  @IsOptional() @IsString() UPLOAD_TMPDIR?: string;
  @IsOptional() @IsString() BUILTIN_PLUGINS_DIR?: string;
  @IsOptional() @IsIn(['error', 'warn', 'log', 'debug', 'verbose']) LOG_LEVEL?: string;
  @IsOptional() @Matches(HTTP_URL, { message: 'PUBLIC_URL must be an http:// or https:// URL' }) PUBLIC_URL?: string;
  @IsOptional() @Matches(HTTP_URL, { message: 'MLFLOW_TRACKING_URI must be an http:// or https:// URL' }) MLFLOW_TRACKING_URI?: string;
  @IsOptional() @IsString() MLFLOW_TRACKING_TOKEN?: string;
  @IsOptional() @IsString() MLFLOW_TRACKING_USERNAME?: string;
  @IsOptional() @IsString() MLFLOW_TRACKING_PASSWORD?: string;
}

export class ConfigError extends Error {}

/** Typed, validated configuration. Injected as a provider (AppConfigModule). */
export class AppConfig {
  role: Role;
  production: boolean;
  port: number;
  host: string;
  databaseUrl?: string;
  redisUrl?: string;
  redisPrefix: string;
  dataDir: string;
  jwtSecret: string;
  adminPassword?: string;
  authDisabled: boolean;
  /** Login attempts allowed per client address per minute. */
  loginRateLimit: number;
  /** Queue names this worker serves; undefined = all queues. */
  workerQueues?: string[];
  workerConcurrency: number;
  jobWorkdir: string;
  keepJobWorkdirs: boolean;
  maxWorkflowBytes: number;
  maxPluginBytes: number;
  maxExtractedBytes: number;
  maxArchiveEntries: number;
  /** Where multipart uploads are spooled (one 0700 directory per request, removed when it is done). */
  uploadTmpdir: string;
  /** BUILTIN_PLUGINS_DIR split on `:`: directories of the dioptra_builtins collection, merged in order (first wins). */
  builtinPluginsDirs: string[];
  logLevel: string;
  /** Environment passed to jobs: PATH and locale only, never server secrets. */
  jobBaseEnv: Record<string, string>;
  /**
   * Alidade's base URL as the worker (and so its jobs) reach it: the jobs' MLFLOW_TRACKING_URI in local tracking mode.
   * No trailing slash. Undefined only in the api role, or a worker in external MLflow mode without PUBLIC_URL.
   */
  publicUrl?: string;
  /** External MLflow mode (worker): jobs' runs are created and closed in this MLflow server instead of Alidade. */
  externalMlflow?: ExternalMlflowConfig;
}

export interface ExternalMlflowConfig {
  /** No trailing slash. */
  uri: string;
  token?: string;
  username?: string;
  password?: string;
}

const MiB = 1024 * 1024;

/** Validates the environment; throws ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, roleArg?: string): AppConfig {
  const raw = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  if (roleArg !== undefined) raw.ALIDADE_ROLE = roleArg;
  const parsed = plainToInstance(EnvSchema, raw);
  const errors = validateSync(parsed, { whitelist: false });
  if (errors.length > 0) {
    const lines = errors.map((e) => `${e.property}: ${Object.values(e.constraints ?? {}).join('; ')}`);
    throw new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  const production = parsed.NODE_ENV === 'production';
  const dataDir = resolve(parsed.DATA_DIR ?? './data');
  // Only the HTTP roles sign and check tokens; a worker never needs the secret.
  if (production && !parsed.JWT_SECRET && parsed.ALIDADE_ROLE !== 'worker') {
    throw new ConfigError('invalid configuration:\n  JWT_SECRET: required when NODE_ENV=production');
  }
  const role = parsed.ALIDADE_ROLE ?? 'all';
  const port = parsed.PORT ?? 3000;
  const host = parsed.HOST ?? '0.0.0.0';
  const externalMlflow = externalMlflowConfig(parsed);
  const config = new AppConfig();
  Object.assign(config, {
    role,
    production,
    port,
    host,
    databaseUrl: parsed.DATABASE_URL,
    redisUrl: parsed.REDIS_URL,
    redisPrefix: parsed.REDIS_PREFIX ?? 'alidade',
    dataDir,
    jwtSecret: parsed.JWT_SECRET ?? '',
    adminPassword: parsed.ADMIN_PASSWORD,
    authDisabled: parsed.AUTH_DISABLED ?? false,
    loginRateLimit: parsed.LOGIN_RATE_LIMIT ?? 10,
    workerQueues: parsed.WORKER_QUEUES ? parsed.WORKER_QUEUES.split(',').map((q) => q.trim()).filter(Boolean) : undefined,
    workerConcurrency: parsed.WORKER_CONCURRENCY ?? 1,
    jobWorkdir: resolve(parsed.JOB_WORKDIR ?? join(dataDir, 'jobs')),
    keepJobWorkdirs: parsed.KEEP_JOB_WORKDIRS ?? false,
    maxWorkflowBytes: parsed.MAX_WORKFLOW_BYTES ?? 100 * MiB,
    maxPluginBytes: parsed.MAX_PLUGIN_BYTES ?? 10 * MiB,
    maxExtractedBytes: parsed.MAX_EXTRACTED_BYTES ?? 1024 * MiB,
    maxArchiveEntries: parsed.MAX_ARCHIVE_ENTRIES ?? 10_000,
    uploadTmpdir: resolve(parsed.UPLOAD_TMPDIR ?? join(dataDir, 'uploads')),
    builtinPluginsDirs: builtinDirs(parsed.BUILTIN_PLUGINS_DIR),
    logLevel: parsed.LOG_LEVEL ?? 'log',
    jobBaseEnv: pickJobEnv(env),
    publicUrl: publicUrl(parsed.PUBLIC_URL, role, host, port, externalMlflow !== undefined),
    externalMlflow,
  } satisfies AppConfig);
  return config;
}

/**
 * PUBLIC_URL, else (role `all`) the local API: the worker of an `all` process reaches its own listener on loopback.
 * A `worker` on its own cannot guess where the API is, so it refuses to start without PUBLIC_URL (unless its jobs'
 * runs go to an external MLflow server and nothing needs Alidade's address).
 */
function publicUrl(value: string | undefined, role: Role, host: string, port: number, external: boolean): string | undefined {
  if (value) return value.replace(/\/+$/, '');
  if (role === 'all') {
    const local = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
    return `http://${local.includes(':') ? `[${local}]` : local}:${port}`;
  }
  if (role === 'worker' && !external) {
    throw new ConfigError(
      'invalid configuration:\n  PUBLIC_URL: required for ALIDADE_ROLE=worker: Alidade\'s base URL as this worker reaches it ' +
        '(jobs get it as MLFLOW_TRACKING_URI), e.g. PUBLIC_URL=http://api-host:3000; or set MLFLOW_TRACKING_URI for an external MLflow server',
    );
  }
  return undefined;
}

/** MLFLOW_TRACKING_URI (+ a token, or a username and password) = external MLflow mode. */
function externalMlflowConfig(parsed: EnvSchema): ExternalMlflowConfig | undefined {
  const { MLFLOW_TRACKING_URI: uri, MLFLOW_TRACKING_TOKEN: token, MLFLOW_TRACKING_USERNAME: username, MLFLOW_TRACKING_PASSWORD: password } = parsed;
  const problems: string[] = [];
  if (!uri && (token || username || password)) problems.push('MLFLOW_TRACKING_TOKEN/USERNAME/PASSWORD: set only with MLFLOW_TRACKING_URI (external MLflow mode)');
  if (Boolean(username) !== Boolean(password)) problems.push('MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD: set both or neither');
  if (token && username) problems.push('MLFLOW_TRACKING_TOKEN: set either a token or a username and password, not both');
  if (problems.length > 0) throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
  if (!uri) return undefined;
  return { uri: uri.replace(/\/+$/, ''), token, username, password };
}

/** BUILTIN_PLUGINS_DIR: `:`-separated directories (empty parts ignored); unset or empty = Alidade's own collection. */
function builtinDirs(value: string | undefined): string[] {
  const dirs = (value ?? '').split(':').filter((d) => d.trim() !== '');
  return dirs.length > 0 ? dirs.map((d) => resolve(d)) : [join(__dirname, '..', '..', 'task-plugins', 'dioptra_builtins')];
}

/** JWT_SECRET unset (development): generate one into DATA_DIR so tokens survive restarts. */
export function ensureJwtSecret(config: AppConfig): void {
  if (config.jwtSecret || config.role === 'worker') return;
  const file = join(config.dataDir, 'jwt-secret');
  if (!existsSync(file)) {
    mkdirSync(config.dataDir, { recursive: true });
    writeFileSync(file, randomBytes(48).toString('base64url'), { mode: 0o600, flag: 'wx' });
  }
  config.jwtSecret = readFileSync(file, 'utf8').trim();
}

const JOB_ENV_KEYS = ['PATH', 'LANG', 'LC_ALL', 'TZ', 'HOME', 'TMPDIR', 'PYTHONUNBUFFERED'];
function pickJobEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of JOB_ENV_KEYS) if (env[k]) out[k] = env[k]!;
  out.PATH ??= '/usr/local/bin:/usr/bin:/bin';
  return out;
}
