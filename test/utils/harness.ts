// Starts the real app (real Postgres, real Redis) for one test file, in a database of its own.
import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { randomBytes } from 'node:crypto';
import { AddressInfo, createServer } from 'node:net';
import { Client } from 'pg';
import request from 'supertest';
import TestAgent from 'supertest/lib/agent';
import { AppModule } from '../../src/app/app.module';
import { configureApp } from '../../src/app/configure-app';
import { tolerateRejectionsWhileStopping } from '../../src/common/stopping';
import { AppConfig, loadConfig, Role } from '../../src/config/config';

export const ADMIN_PASSWORD = 'admin-password-1';
let dbCounter = 0;

function env(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run the tests through jest (test/global-setup.mjs)`);
  return v;
}

/** A fresh, empty database for this run; dropped by global teardown. */
export async function createDatabase(): Promise<string> {
  const name = `alidade_t_${env('ALIDADE_TEST_RUN')}_${process.pid}_${++dbCounter}_${randomBytes(2).toString('hex')}`;
  const admin = new Client({ connectionString: env('ALIDADE_TEST_PG') });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const url = new URL(env('ALIDADE_TEST_PG'));
  url.pathname = `/${name}`;
  return url.toString();
}

/** Environment for an app (or a worker process) of this test run. */
export function testEnv(databaseUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    NODE_ENV: 'test',
    DATABASE_URL: databaseUrl,
    REDIS_URL: env('ALIDADE_TEST_REDIS'),
    REDIS_PREFIX: `alidade-t-${env('ALIDADE_TEST_RUN')}-${randomBytes(3).toString('hex')}`,
    JWT_SECRET: 'test-secret-test-secret-test-secret-0123456789',
    ADMIN_PASSWORD,
    LOG_LEVEL: 'error',
    // Tests log in often from one address; the rate-limit test sets the real default back.
    LOGIN_RATE_LIMIT: '1000',
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    ...extra,
  };
}

export interface TestApp {
  app: INestApplication;
  config: AppConfig;
  http: () => TestAgent;
  databaseUrl: string;
  env: Record<string, string>;
  close: () => Promise<void>;
}

/** Boots the app with the given role ('api' unless the test needs an in-process worker). */
export async function startApp(options: { role?: Role; env?: Record<string, string>; databaseUrl?: string; listen?: boolean } = {}): Promise<TestApp> {
  const databaseUrl = options.databaseUrl ?? (await createDatabase());
  // Jobs that talk to the MLflow face need a real port: the in-process worker gives them http://127.0.0.1:<PORT>.
  const port = options.listen ? await freePort() : undefined;
  const e = testEnv(databaseUrl, { ...(port ? { PORT: String(port) } : {}), ...options.env });
  const config = loadConfig(e);
  config.role = options.role ?? 'api';
  const moduleRef = await Test.createTestingModule({ imports: [AppModule.forRole(config.role, config)] }).compile();
  const app = moduleRef.createNestApplication({ logger: ['error'] });
  await configureApp(app);
  if (port) await app.listen(port, '127.0.0.1');
  const server = app.getHttpServer();
  return {
    app,
    config,
    databaseUrl,
    env: e,
    http: () => request(server),
    close: () => {
      tolerateRejectionsWhileStopping(() => undefined);
      return app.close();
    },
  };
}

/** A TCP port free on loopback right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export async function login(t: TestApp, username: string, password: string): Promise<string> {
  const res = await t.http().post('/api/v1/auth/login').send({ username, password });
  if (res.status !== 200) throw new Error(`login ${username}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.token;
}

export const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

/** Creates a user through the API (as admin) and returns a login token for them. */
export async function createUser(t: TestApp, adminToken: string, username: string, opts: { admin?: boolean; password?: string } = {}): Promise<{ id: number; token: string }> {
  const password = opts.password ?? `${username}-password`;
  const res = await t.http().post('/api/v1/users').set(bearer(adminToken)).send({ username, password, admin: opts.admin ?? false });
  if (res.status !== 201) throw new Error(`create user ${username}: ${res.status} ${JSON.stringify(res.body)}`);
  return { id: res.body.user.id, token: await login(t, username, password) };
}
