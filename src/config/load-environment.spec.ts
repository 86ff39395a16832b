import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from './config';
import { loadConfigFromEnvironment } from './load-environment';

describe('loadConfigFromEnvironment (.env through @nestjs/config, then loadConfig)', () => {
  const KEYS = ['PORT', 'LOG_LEVEL', 'MAX_WORKFLOW_BYTES', 'REDIS_PREFIX', 'UPLOAD_TMPDIR', 'ALIDADE_ROLE'];
  let saved: Record<string, string | undefined>;
  let dir: string;

  beforeEach(() => {
    saved = Object.fromEntries(KEYS.map((k) => [k, process.env[k]]));
    for (const k of KEYS) delete process.env[k];
    dir = mkdtempSync(join(tmpdir(), 'alidade-env-'));
  });
  afterEach(() => {
    for (const k of KEYS) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads .env in the working directory; a variable of the real environment wins over it', async () => {
    writeFileSync(
      join(dir, '.env'),
      ['# a comment', 'PORT=4321', 'LOG_LEVEL=debug', 'MAX_WORKFLOW_BYTES=1234', 'REDIS_PREFIX=from-file', 'UPLOAD_TMPDIR="/srv/spool dir"', ''].join('\n'),
    );
    process.env.LOG_LEVEL = 'warn';
    process.env.REDIS_PREFIX = 'from-env';
    const config = await loadConfigFromEnvironment(undefined, dir);
    expect(config).toMatchObject({ port: 4321, maxWorkflowBytes: 1234, uploadTmpdir: '/srv/spool dir', logLevel: 'warn', redisPrefix: 'from-env' });
    // What .env set stays out of process.env (children such as the embedded Postgres see the real environment only).
    expect(process.env.PORT).toBeUndefined();
    expect(process.env.MAX_WORKFLOW_BYTES).toBeUndefined();
  });

  it('without a .env: the defaults, and the role argument as given', async () => {
    const config = await loadConfigFromEnvironment('worker', dir);
    expect(config).toMatchObject({ port: 3000, maxWorkflowBytes: 100 * 1024 * 1024, logLevel: 'log', redisPrefix: 'alidade', role: 'worker' });
  });

  it('a bad value in .env stops the start, naming the variable, as one in the environment does', async () => {
    writeFileSync(join(dir, '.env'), 'PORT=not-a-port\n');
    await expect(loadConfigFromEnvironment(undefined, dir)).rejects.toThrow(ConfigError);
    await expect(loadConfigFromEnvironment(undefined, dir)).rejects.toThrow(/PORT/);
    // The real environment wins here too: a good value there overrides the bad one in the file.
    process.env.PORT = '8080';
    expect((await loadConfigFromEnvironment(undefined, dir)).port).toBe(8080);
  });
});
