import { AppConfig } from '../config/config';

export interface BannerFacts {
  config: AppConfig;
  /** What main.ts knows of the database and Redis: the embedded services' own words, else the URLs. */
  database: string;
  redis: string;
  /** The worker's active job sandbox (SandboxService.mode), for the roles that run jobs. */
  sandbox?: string;
  /** The bootstrap admin's generated password, on the first start only. */
  adminPassword?: string;
  version: string;
  /** Whether something answers at /ui (the dashboard is served when it was built). */
  dashboard?: boolean;
}

/** A URL without its password (user names and hosts stay: they say which server). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString().replace(/\/$/, '');
  } catch {
    return url.replace(/\/\/[^@/]*@/, '//***@');
  }
}

/**
 * The start banner: what runs, where, and with what — the lines an operator looks for after `npm start`. One log
 * message; the first start's admin password is its own warning, boxed, so it cannot be missed.
 */
export function startBanner(f: BannerFacts): { lines: string[]; password?: string[] } {
  const c = f.config;
  const host = c.host === '0.0.0.0' || c.host === '::' ? 'localhost' : c.host;
  const base = `http://${host.includes(':') ? `[${host}]` : host}:${c.port}`;
  const lines = [`Alidade ${f.version} started: role ${c.role}, pid ${process.pid}${c.production ? ', production' : ''}`];
  if (c.role !== 'worker') {
    lines.push(
      `  API         ${base}/api/v1 (native), ${base}/api/ (Dioptra), ${base}/api/2.0/mlflow (MLflow tracking) — listening on ${c.host}:${c.port}`,
      `  Swagger UI  ${base}/   (spec: ${base}/openapi.json)`,
    );
    if (f.dashboard) lines.push(`  Dashboard   ${base}/ui`);
  }
  lines.push(`  Database    ${f.database}`, `  Redis       ${f.redis}, key prefix "${c.redisPrefix}"`);
  if (c.role !== 'api') {
    const queues = c.workerQueues ? c.workerQueues.join(', ') : 'all queues';
    const tracking = c.externalMlflow ? `external MLflow at ${redactUrl(c.externalMlflow.uri)}` : `MLflow face at ${c.publicUrl}`;
    lines.push(
      `  Worker      queues: ${queues}; ${c.workerConcurrency} job${c.workerConcurrency === 1 ? '' : 's'} at a time; jobs' runs: ${tracking}`,
      `  Sandbox     ${f.sandbox ?? c.sandbox.mode} (JOB_SANDBOX=${c.sandbox.mode}); jobs in ${c.jobWorkdir}`,
    );
  }
  if (c.authDisabled) lines.push('  Auth        DISABLED (AUTH_DISABLED=true): every request acts as the admin');
  lines.push(`  Logs        this terminal (standard output), level ${c.logLevel}; LOG_LEVEL=debug for module and route detail`);
  if (!f.adminPassword) return { lines };
  const inner = [
    'First start: the user "admin" was created with this password (shown only now):',
    '',
    `    ${f.adminPassword}`,
    '',
    'Log in with it, then change it (POST /api/v1/users/1/password). Lost it later?',
    'npm run reset-password -- admin   (or: node dist/main.js reset-password admin)',
  ];
  const width = Math.max(...inner.map((l) => l.length));
  const password = [`+${'-'.repeat(width + 2)}+`, ...inner.map((l) => `| ${l.padEnd(width)} |`), `+${'-'.repeat(width + 2)}+`];
  return { lines, password };
}
