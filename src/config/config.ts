// Owns the process configuration: the only module that reads process.env (with load-environment.ts, which adds .env).
// Everything else injects AppConfig.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
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
export const SANDBOX_MODES = ['auto', 'bwrap', 'uid', 'none'] as const;
export type SandboxMode = (typeof SANDBOX_MODES)[number];
export const NETWORK_MODES = ['none', 'host'] as const;
export type NetworkMode = (typeof NETWORK_MODES)[number];
const SIZE_PATTERN = /^\d+(\.\d+)?\s*([KMGT]i?B?|B)?$/i;
const DEFAULT_PASSTHROUGH = 'CUDA_VISIBLE_DEVICES,NVIDIA_VISIBLE_DEVICES,OMP_NUM_THREADS,TZ,LANG';
const GiB = 1024 * 1024 * 1024;

/** The environment as validated at boot. Field names are the variable names. */
export class EnvSchema {
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
  @IsOptional()
  @Matches(/^(true|false|\d+|(loopback|linklocal|uniquelocal|[0-9A-Fa-f.:]+(\/\d+)?)(\s*,\s*(loopback|linklocal|uniquelocal|[0-9A-Fa-f.:]+(\/\d+)?))*)$/, {
    message: 'TRUST_PROXY must be true, false, a number of proxy hops, or a comma-separated list of addresses/subnets (loopback, 10.0.0.0/8, ...)',
  })
  TRUST_PROXY?: string;
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
  @IsOptional() @IsIn(SANDBOX_MODES) JOB_SANDBOX?: SandboxMode;
  @IsOptional() @IsString() JOB_BWRAP?: string;
  @IsOptional() @Matches(/^\d+-\d+$/, { message: 'JOB_UID_RANGE must be FIRST-LAST, e.g. 200000-265535' }) JOB_UID_RANGE?: string;
  @IsOptional() @Matches(SIZE_PATTERN, { message: 'JOB_MEMORY_LIMIT must be a size such as 2G, 512M or a number of bytes' }) JOB_MEMORY_LIMIT?: string;
  @IsOptional() @Matches(SIZE_PATTERN, { message: 'JOB_DISK_LIMIT must be a size such as 10G, 512M or a number of bytes' }) JOB_DISK_LIMIT?: string;
  @IsOptional() @Matches(SIZE_PATTERN, { message: 'JOB_FSIZE_LIMIT must be a size such as 10G, 512M or a number of bytes' }) JOB_FSIZE_LIMIT?: string;
  @IsOptional() @Transform(toInt) @IsInt() @Min(16) JOB_PIDS_LIMIT?: number;
  @IsOptional() @Transform(toInt) @IsInt() @Min(16) JOB_NOFILE_LIMIT?: number;
  @IsOptional() @Transform(toInt) @IsInt() @Min(100) JOB_FILES_LIMIT?: number;
  @IsOptional() @Matches(SIZE_PATTERN, { message: 'JOB_LOG_LIMIT must be a size such as 64M, 1G or a number of bytes' }) JOB_LOG_LIMIT?: string;
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(10000) JOB_CPU_WEIGHT?: number;
  @IsOptional() @IsIn(NETWORK_MODES) JOB_NETWORK?: NetworkMode;
  @IsOptional() @IsString() JOB_RO_BINDS?: string;
  @IsOptional() @IsString() JOB_DEVICES?: string;
  @IsOptional() @IsString() @Matches(/^[A-Za-z_][A-Za-z0-9_]*(,[A-Za-z_][A-Za-z0-9_]*)*$|^$/, { message: 'JOB_ENV_PASSTHROUGH must be comma-separated variable names' }) JOB_ENV_PASSTHROUGH?: string;
  @IsOptional() @IsString() JOB_ENV?: string;
}

export class ConfigError extends Error {}


/** How jobs are confined (src/sandbox/). Sizes in bytes. */
export interface SandboxSettings {
  mode: SandboxMode;
  /** The bubblewrap binary (JOB_BWRAP, else `bwrap` on PATH); null when not found. */
  bwrapPath: string | null;
  uidRange: { first: number; last: number };
  memoryLimit: number;
  pidsLimit: number;
  cpuWeight: number;
  /** JOB_DISK_LIMIT; unset: 10 GiB or half the free space of JOB_WORKDIR's file system at start, the smaller. */
  diskLimit?: number;
  fsizeLimit?: number;
  nofileLimit: number;
  /** JOB_FILES_LIMIT: files and directories in the job directory; unset: 1,000,000 or half the free inodes of JOB_WORKDIR's file system at start, the smaller. */
  filesLimit?: number;
  /** JOB_LOG_LIMIT: characters of output stored per job (the rest is dropped, with a note). */
  logLimit: number;
  /** Default of queues that do not say (JOB_NETWORK). */
  network: NetworkMode;
  /** Extra read-only paths inside the sandbox (Python environments, data sets). */
  roBinds: string[];
  /** Device paths (globs such as /dev/nvidia*) bound into every job; queues may add their own. */
  devices: string[];
  /** Worker variables a job sees, when the worker has them. */
  envPassthrough: Record<string, string>;
  /** JOB_ENV: extra variables for every job (a JSON object of strings). */
  extraEnv: Record<string, string>;
}

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
  /** Express's `trust proxy`: which proxies' X-Forwarded-For names the client (false: none, the default). */
  trustProxy: boolean | number | string;
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
  /** Environment passed to jobs besides the contract variables: a sane PATH, JOB_ENV_PASSTHROUGH and JOB_ENV. */
  jobBaseEnv: Record<string, string>;
  /**
   * Alidade's base URL as the worker (and so its jobs) reach it: the jobs' MLFLOW_TRACKING_URI in local tracking mode.
   * No trailing slash. Undefined only in the api role, or a worker in external MLflow mode without PUBLIC_URL.
   */
  publicUrl?: string;
  /** External MLflow mode (worker): jobs' runs are created and closed in this MLflow server instead of Alidade. */
  externalMlflow?: ExternalMlflowConfig;
  sandbox: SandboxSettings;
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
  // AUTH_DISABLED lets anyone who reaches the port act as admin: loopback only, unless HOST is set explicitly.
  const host = parsed.HOST ?? (parsed.AUTH_DISABLED ? '127.0.0.1' : '0.0.0.0');
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
    trustProxy: trustProxy(parsed.TRUST_PROXY),
    workerQueues: parsed.WORKER_QUEUES ? parsed.WORKER_QUEUES.split(',').map((q) => q.trim()).filter(Boolean) : undefined,
    workerConcurrency: parsed.WORKER_CONCURRENCY ?? 1,
    // Outside DATA_DIR: nothing of the server's files is on the way to a job's directory.
    jobWorkdir: resolve(parsed.JOB_WORKDIR ?? DEFAULT_JOB_WORKDIR),
    keepJobWorkdirs: parsed.KEEP_JOB_WORKDIRS ?? false,
    maxWorkflowBytes: parsed.MAX_WORKFLOW_BYTES ?? 100 * MiB,
    maxPluginBytes: parsed.MAX_PLUGIN_BYTES ?? 10 * MiB,
    maxExtractedBytes: parsed.MAX_EXTRACTED_BYTES ?? 1024 * MiB,
    maxArchiveEntries: parsed.MAX_ARCHIVE_ENTRIES ?? 10_000,
    uploadTmpdir: resolve(parsed.UPLOAD_TMPDIR ?? join(dataDir, 'uploads')),
    builtinPluginsDirs: builtinDirs(parsed.BUILTIN_PLUGINS_DIR),
    logLevel: parsed.LOG_LEVEL ?? 'log',
    jobBaseEnv: {},
    sandbox: sandboxSettings(parsed, env),
    publicUrl: publicUrl(parsed.PUBLIC_URL, role, host, port, externalMlflow !== undefined),
    externalMlflow,
  } satisfies AppConfig);
  config.jobBaseEnv = { PATH: JOB_PATH, ...config.sandbox.envPassthrough, ...config.sandbox.extraEnv };
  return config;
}

/** TRUST_PROXY: off unless set; `true` trusts every proxy, a number that many hops, else a list of addresses. */
function trustProxy(value: string | undefined): boolean | number | string {
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  return /^\d+$/.test(value) ? Number(value) : value;
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

export const DEFAULT_JOB_WORKDIR = '/var/tmp/alidade-jobs';
/** A job's PATH unless JOB_ENV sets one: the system's directories, nothing of the server's user. */
export const JOB_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

function sandboxSettings(parsed: EnvSchema, env: NodeJS.ProcessEnv): SandboxSettings {
  const [first, last] = (parsed.JOB_UID_RANGE ?? '200000-265535').split('-').map(Number);
  if (first < 1000 || last < first || last > 4294967294) {
    throw new ConfigError('invalid configuration:\n  JOB_UID_RANGE: must be FIRST-LAST with 1000 <= FIRST <= LAST (never root, never a system user)');
  }
  const myUid = typeof process.getuid === 'function' ? process.getuid() : -1;
  if (myUid >= first && myUid <= last) throw new ConfigError(`invalid configuration:\n  JOB_UID_RANGE: holds the server's own uid ${myUid}`);
  const names = (parsed.JOB_ENV_PASSTHROUGH ?? DEFAULT_PASSTHROUGH).split(',').filter(Boolean);
  const envPassthrough: Record<string, string> = {};
  for (const name of names) if (env[name] !== undefined) envPassthrough[name] = env[name]!;
  return {
    mode: parsed.JOB_SANDBOX ?? 'auto',
    bwrapPath: parsed.JOB_BWRAP ? resolve(parsed.JOB_BWRAP) : findOnPath('bwrap', env.PATH),
    uidRange: { first, last },
    memoryLimit: parseSize(parsed.JOB_MEMORY_LIMIT) ?? 2 * GiB,
    pidsLimit: parsed.JOB_PIDS_LIMIT ?? 1024,
    cpuWeight: parsed.JOB_CPU_WEIGHT ?? 100,
    diskLimit: parseSize(parsed.JOB_DISK_LIMIT),
    fsizeLimit: parseSize(parsed.JOB_FSIZE_LIMIT),
    nofileLimit: parsed.JOB_NOFILE_LIMIT ?? 4096,
    filesLimit: parsed.JOB_FILES_LIMIT,
    logLimit: parseSize(parsed.JOB_LOG_LIMIT) ?? 256 * 1024 ** 2,
    network: parsed.JOB_NETWORK ?? 'none',
    roBinds: (parsed.JOB_RO_BINDS ?? '').split(':').filter((p) => p.trim() !== '').map((p) => resolve(p)),
    devices: (parsed.JOB_DEVICES ?? '').split(':').filter((p) => p.trim() !== ''),
    envPassthrough,
    extraEnv: parseJobEnv(parsed.JOB_ENV),
  };
}

/** `2G`, `512MiB`, `1.5g`, `1048576` → bytes (K, M, G, T are powers of 1024). */
export function parseSize(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)\s*([KMGT]?)/i.exec(value.trim());
  if (!m) return undefined;
  const power = ' KMGT'.indexOf((m[2] || ' ').toUpperCase());
  return Math.floor(Number(m[1]) * 1024 ** power);
}

function parseJobEnv(value: string | undefined): Record<string, string> {
  if (value === undefined) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    parsed = undefined;
  }
  const ok =
    parsed !== null &&
    typeof parsed === 'object' &&
    !Array.isArray(parsed) &&
    Object.entries(parsed as object).every(([k, v]) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(k) && typeof v === 'string');
  if (!ok) throw new ConfigError('invalid configuration:\n  JOB_ENV: must be a JSON object of variable names to strings, e.g. {"HF_HOME":"/data/hf"}');
  return parsed as Record<string, string>;
}

function findOnPath(name: string, path: string | undefined): string | null {
  for (const dir of (path ?? '/usr/local/bin:/usr/bin:/bin').split(':')) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return null;
}

/** BUILTIN_PLUGINS_DIR: `:`-separated directories (empty parts ignored); unset or empty = Alidade's own collection. */
function builtinDirs(value: string | undefined): string[] {
  const dirs = (value ?? '').split(':').filter((d) => d.trim() !== '');
  return dirs.length > 0 ? dirs.map((d) => resolve(d)) : [join(__dirname, '..', '..', 'task-plugins', 'dioptra_builtins')];
}

/** DATA_DIR holds the secrets (jwt-secret, postgres-password): 0700, made so when it exists already. */
export function ensureDataDir(config: AppConfig): void {
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  chmodSync(config.dataDir, 0o700);
}

/** JWT_SECRET unset (development): generate one into DATA_DIR so tokens survive restarts. */
export function ensureJwtSecret(config: AppConfig): void {
  if (config.jwtSecret || config.role === 'worker') return;
  const file = join(config.dataDir, 'jwt-secret');
  if (!existsSync(file)) {
    mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
    writeFileSync(file, randomBytes(48).toString('base64url'), { mode: 0o600, flag: 'wx' });
  }
  config.jwtSecret = readFileSync(file, 'utf8').trim();
}
