import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { createConnection, createServer } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { ADMIN_PASSWORD, bearer, createDatabase, createUser, login, startApp, TestApp, testEnv } from './utils/harness';

/** An HS256 JWT, as anyone holding the secret could make one. */
function signJwt(claims: object, secret: string): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const body = `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ ...claims, iat: now, exp: now + 3600 })}`;
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
}

describe('auth, users and tokens (/api/v1)', () => {
  let t: TestApp;
  let admin: string;

  beforeAll(async () => {
    t = await startApp();
    admin = await login(t, 'admin', ADMIN_PASSWORD);
  });
  afterAll(() => t.close());

  describe('login', () => {
    it('returns {token, user} for the bootstrap admin', async () => {
      const res = await t.http().post('/api/v1/auth/login').send({ username: 'admin', password: ADMIN_PASSWORD }).expect(200);
      expect(typeof res.body.token).toBe('string');
      expect(res.body.user).toMatchObject({ id: 1, username: 'admin', admin: true, active: true, displayName: null });
      expect(res.body.user.lastAuthAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(Object.keys(res.body.user).sort()).toEqual(['active', 'admin', 'createdAt', 'displayName', 'id', 'lastAuthAt', 'modifiedAt', 'username']);
    });

    it('answers 401 "invalid credentials" for a wrong password and for an unknown user alike', async () => {
      const wrong = await t.http().post('/api/v1/auth/login').send({ username: 'admin', password: 'not-the-password' }).expect(401);
      const unknown = await t.http().post('/api/v1/auth/login').send({ username: 'nobody', password: 'whatever1' }).expect(401);
      expect(wrong.body).toEqual({ statusCode: 401, error: 'Unauthorized', code: 'INVALID_CREDENTIALS', message: 'invalid credentials' });
      expect(unknown.body).toEqual(wrong.body);
    });

    it('rejects a body without a password with field messages', async () => {
      const res = await t.http().post('/api/v1/auth/login').send({ username: 'admin' }).expect(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
      expect(res.body.details.fields.password).toEqual(expect.arrayContaining([expect.stringContaining('password')]));
    });

    it('rejects malformed JSON with a 400, not a 500', async () => {
      const res = await t.http().post('/api/v1/auth/login').set('Content-Type', 'application/json').send('{"username": ').expect(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
    });
  });

  describe('bearer tokens', () => {
    it('GET /api/v1/me needs a token: 401 "token missing" without, 401 with a forged one, 200 with a real one', async () => {
      const none = await t.http().get('/api/v1/me').expect(401);
      expect(none.body).toMatchObject({ code: 'UNAUTHENTICATED', message: 'token missing' });
      await t.http().get('/api/v1/me').set(bearer('not.a.token')).expect(401);
      await t.http().get('/api/v1/me').set({ Authorization: `Basic ${admin}` }).expect(401);
      const me = await t.http().get('/api/v1/me').set(bearer(admin)).expect(200);
      expect(me.body.user.username).toBe('admin');
      const same = await t.http().get('/api/v1/auth/user').set(bearer(admin)).expect(200);
      expect(same.body).toEqual(me.body);
    });

    it('a JWT signed with the real secret is refused unless it is the very token stored for its row', async () => {
      // What someone who stole JWT_SECRET could sign: no row, a guessed row of the admin's, an access-token row.
      const ownSession = JSON.parse(Buffer.from(admin.split('.')[1], 'base64url').toString()) as { sub: number; sid: number };
      const access = (await t.http().post('/api/v1/tokens').set(bearer(admin)).send({}).expect(201)).body;
      for (const claims of [
        { sub: 1, sid: 999_999 },
        { sub: 1, tid: 999_999 },
        { sub: ownSession.sub, sid: ownSession.sid },
        { sub: 1, tid: access.tokenId },
        { sub: 1, sid: 4_294_967_296 },
        { sub: '1', sid: ownSession.sid },
      ]) {
        const forged = signJwt(claims, t.env.JWT_SECRET);
        const res = await t.http().get('/api/v1/me').set(bearer(forged));
        expect({ claims, status: res.status, code: res.body.code }).toEqual({ claims, status: 401, code: 'UNAUTHENTICATED' });
      }
      // The genuine tokens of those rows still work.
      await t.http().get('/api/v1/me').set(bearer(admin)).expect(200);
      await t.http().get('/api/v1/me').set(bearer(access.token)).expect(200);
    });

    it('logout revokes the login token in use and only that one', async () => {
      const a = await login(t, 'admin', ADMIN_PASSWORD);
      const b = await login(t, 'admin', ADMIN_PASSWORD);
      expect(await t.http().post('/api/v1/auth/logout').set(bearer(a)).expect(200).then((r) => r.body)).toEqual({});
      await t.http().get('/api/v1/me').set(bearer(a)).expect(401);
      await t.http().get('/api/v1/me').set(bearer(b)).expect(200);
    });
  });

  describe('users', () => {
    it('admins create users; duplicates (any case) are 409; bad usernames and short passwords are 400 with field messages', async () => {
      const res = await t.http().post('/api/v1/users').set(bearer(admin)).send({ username: 'alice', password: 'alice-password', displayName: 'Alice' }).expect(201);
      expect(res.body.user).toMatchObject({ username: 'alice', displayName: 'Alice', admin: false, active: true });
      const dup = await t.http().post('/api/v1/users').set(bearer(admin)).send({ username: 'ALICE', password: 'whatever-123' }).expect(409);
      expect(dup.body.code).toBe('USER_ALREADY_EXISTS');
      const bad = await t.http().post('/api/v1/users').set(bearer(admin)).send({ username: 'a b', password: 'short' }).expect(400);
      expect(Object.keys(bad.body.details.fields).sort()).toEqual(['password', 'username']);
      const extra = await t.http().post('/api/v1/users').set(bearer(admin)).send({ username: 'zed', password: 'zed-password', role: 'root' }).expect(400);
      expect(extra.body.details.fields.role).toEqual(['role is not an accepted field']);
    });

    it('non-admins get 403 on admin routes and may only change their own displayName', async () => {
      const bob = await createUser(t, admin, 'bob');
      const list = await t.http().get('/api/v1/users').set(bearer(bob.token)).expect(403);
      expect(list.body).toMatchObject({ statusCode: 403, error: 'Forbidden', code: 'PERMISSION_DENIED' });
      await t.http().post('/api/v1/users').set(bearer(bob.token)).send({ username: 'mallory', password: 'mallory-pass' }).expect(403);
      await t.http().patch(`/api/v1/users/${bob.id}`).set(bearer(bob.token)).send({ admin: true }).expect(403);
      await t.http().patch('/api/v1/users/1').set(bearer(bob.token)).send({ displayName: 'pwned' }).expect(403);
      const own = await t.http().patch(`/api/v1/users/${bob.id}`).set(bearer(bob.token)).send({ displayName: 'Bob B.' }).expect(200);
      expect(own.body.user.displayName).toBe('Bob B.');
      await t.http().get(`/api/v1/users/${bob.id}`).set(bearer(bob.token)).expect(200);
      await t.http().get('/api/v1/users/99999').set(bearer(bob.token)).expect(404);
      const badId = await t.http().get('/api/v1/users/abc').set(bearer(bob.token)).expect(400);
      expect(badId.body.code).toBe('VALIDATION_FAILED');
    });

    it('lists users with filters, sorting and pagination', async () => {
      await createUser(t, admin, 'carol');
      const res = await t.http().get('/api/v1/users?name=car&active=true&sortBy=username&orderBy=desc').set(bearer(admin)).expect(200);
      expect(res.body.users.map((u: { username: string }) => u.username)).toEqual(['carol']);
      expect(res.body.pagination).toEqual({ offset: 0, limit: 100, startIndex: 0, endIndex: 1, total: 1 });
      const admins = await t.http().get('/api/v1/users?admin=true').set(bearer(admin)).expect(200);
      expect(admins.body.users.every((u: { admin: boolean }) => u.admin)).toBe(true);
      const last = await t.http().get('/api/v1/users?offset=-1&limit=1').set(bearer(admin)).expect(200);
      expect(last.body.pagination.startIndex).toBe(last.body.pagination.total - 1);
      const past = await t.http().get('/api/v1/users?offset=1000').set(bearer(admin)).expect(200);
      expect(past.body.users).toEqual([]);
      expect(past.body.pagination.startIndex).toBe(past.body.pagination.total);
      await t.http().get('/api/v1/users?limit=1001').set(bearer(admin)).expect(400);
      await t.http().get('/api/v1/users?admin=yes').set(bearer(admin)).expect(400);
      await t.http().get('/api/v1/users?sortBy=password').set(bearer(admin)).expect(400);
    });

    it('a deactivated user gets 403 "user is not active" on login and with old tokens; reactivation needs a new login', async () => {
      const dave = await createUser(t, admin, 'dave');
      const tok = await t.http().post('/api/v1/tokens').set(bearer(dave.token)).send({ description: 'ci' }).expect(201);
      await t.http().patch(`/api/v1/users/${dave.id}`).set(bearer(admin)).send({ active: false }).expect(200);
      const denied = await t.http().get('/api/v1/me').set(bearer(dave.token)).expect(403);
      expect(denied.body).toMatchObject({ code: 'USER_NOT_ACTIVE', message: 'user is not active' });
      await t.http().get('/api/v1/me').set(bearer(tok.body.token)).expect(403);
      const loginRes = await t.http().post('/api/v1/auth/login').send({ username: 'dave', password: 'dave-password' }).expect(403);
      expect(loginRes.body.message).toBe('user is not active');
      await t.http().patch(`/api/v1/users/${dave.id}`).set(bearer(admin)).send({ active: true }).expect(200);
      await t.http().get('/api/v1/me').set(bearer(dave.token)).expect(401);
      await t.http().get('/api/v1/me').set(bearer(tok.body.token)).expect(401);
    });

    it('a password change revokes access tokens as well as login tokens, at once (the token-check cache is evicted)', async () => {
      const gus = await createUser(t, admin, 'gus');
      const access = (await t.http().post('/api/v1/tokens').set(bearer(gus.token)).send({ description: 'ci' }).expect(201)).body.token;
      // Both checked just now, so both are in the token-check cache.
      await t.http().get('/api/v1/me').set(bearer(access)).expect(200);
      await t.http().get('/api/v1/me').set(bearer(gus.token)).expect(200);
      await t.http().post(`/api/v1/users/${gus.id}/password`).set(bearer(gus.token)).send({ password: 'gus-new-password', oldPassword: 'gus-password' }).expect(200);
      await t.http().get('/api/v1/me').set(bearer(access)).expect(401);
      await t.http().get('/api/v1/me').set(bearer(gus.token)).expect(401);
      const listed = (await t.http().get('/api/v1/tokens').set(bearer(await login(t, 'gus', 'gus-new-password'))).expect(200)).body.tokens;
      expect(listed).toEqual([expect.objectContaining({ revokedAt: expect.any(String) })]);
    });

    it('deactivation revokes access tokens too, at once; reactivation does not bring them back', async () => {
      const hal = await createUser(t, admin, 'hal');
      const access = (await t.http().post('/api/v1/tokens').set(bearer(hal.token)).send({}).expect(201)).body.token;
      await t.http().get('/api/v1/me').set(bearer(access)).expect(200);
      await t.http().patch(`/api/v1/users/${hal.id}`).set(bearer(admin)).send({ active: false }).expect(200);
      expect((await t.http().get('/api/v1/me').set(bearer(access)).expect(403)).body.message).toBe('user is not active');
      await t.http().patch(`/api/v1/users/${hal.id}`).set(bearer(admin)).send({ active: true }).expect(200);
      await t.http().get('/api/v1/me').set(bearer(access)).expect(401);
      await t.http().get('/api/v1/me').set(bearer(hal.token)).expect(401);
    });

    it('password change: self needs oldPassword, admins do not; login tokens are revoked', async () => {
      const erin = await createUser(t, admin, 'erin');
      const wrong = await t.http().post(`/api/v1/users/${erin.id}/password`).set(bearer(erin.token)).send({ password: 'new-password-1', oldPassword: 'nope-nope' }).expect(400);
      expect(wrong.body.code).toBe('WRONG_PASSWORD');
      await t.http().post(`/api/v1/users/${erin.id}/password`).set(bearer(erin.token)).send({ password: 'new-password-1', oldPassword: 'erin-password' }).expect(200, {});
      await t.http().get('/api/v1/me').set(bearer(erin.token)).expect(401);
      await t.http().post('/api/v1/auth/login').send({ username: 'erin', password: 'erin-password' }).expect(401);
      const again = await login(t, 'erin', 'new-password-1');
      await t.http().post('/api/v1/users/1/password').set(bearer(again)).send({ password: 'hijacked-1' }).expect(403);
      await t.http().post(`/api/v1/users/${erin.id}/password`).set(bearer(admin)).send({ password: 'reset-by-admin' }).expect(200);
    });
  });

  describe('access tokens', () => {
    it('create (shown once), use, list, revoke', async () => {
      const frank = await createUser(t, admin, 'frank');
      const created = await t.http().post('/api/v1/tokens').set(bearer(frank.token)).send({ description: 'notebook', lifespan: '12h' }).expect(201);
      expect(Object.keys(created.body).sort()).toEqual(['token', 'tokenId']);
      const me = await t.http().get('/api/v1/me').set(bearer(created.body.token)).expect(200);
      expect(me.body.user.username).toBe('frank');
      const list = await t.http().get('/api/v1/tokens').set(bearer(frank.token)).expect(200);
      expect(list.body.tokens).toHaveLength(1);
      const tok = list.body.tokens[0];
      expect(tok).toMatchObject({ id: created.body.tokenId, userId: frank.id, description: 'notebook', revokedAt: null });
      expect(JSON.stringify(list.body)).not.toContain(created.body.token);
      expect(new Date(tok.expiresAt).getTime() - new Date(tok.createdAt).getTime()).toBeGreaterThan(11.9 * 3600e3);
      // access tokens survive logout of a login session
      await t.http().post('/api/v1/auth/logout').set(bearer(created.body.token)).expect(200);
      await t.http().get('/api/v1/me').set(bearer(created.body.token)).expect(200);
      // other users cannot see or revoke it; admins can
      const grace = await createUser(t, admin, 'grace');
      await t.http().delete(`/api/v1/tokens/${created.body.tokenId}`).set(bearer(grace.token)).expect(404);
      expect((await t.http().get('/api/v1/tokens').set(bearer(grace.token)).expect(200)).body.tokens).toEqual([]);
      expect((await t.http().get('/api/v1/tokens').set(bearer(admin)).expect(200)).body.pagination.total).toBeGreaterThanOrEqual(1);
      await t.http().delete(`/api/v1/tokens/${created.body.tokenId}`).set(bearer(frank.token)).expect(200, {});
      const revoked = await t.http().get('/api/v1/me').set(bearer(created.body.token)).expect(401);
      expect(revoked.body.message).toBe('user access token revoked');
    });

    it('refuses bad lifespans and tokens for others from non-admins', async () => {
      const heidi = await createUser(t, admin, 'heidi');
      await t.http().post('/api/v1/tokens').set(bearer(heidi.token)).send({ lifespan: '366d' }).expect(400);
      await t.http().post('/api/v1/tokens').set(bearer(heidi.token)).send({ lifespan: 'forever' }).expect(400);
      await t.http().post('/api/v1/tokens').set(bearer(heidi.token)).send({ lifespan: '0d' }).expect(400);
      await t.http().post('/api/v1/tokens').set(bearer(heidi.token)).send({ userId: 1 }).expect(403);
      const forHeidi = await t.http().post('/api/v1/tokens').set(bearer(admin)).send({ userId: heidi.id }).expect(201);
      const me = await t.http().get('/api/v1/me').set(bearer(forHeidi.body.token)).expect(200);
      expect(me.body.user.username).toBe('heidi');
    });
  });

  describe('routing, docs and health', () => {
    it('unknown /api routes answer JSON 404, wrong methods JSON 405', async () => {
      const nf = await t.http().get('/api/v1/nothing-here').set(bearer(admin)).expect(404);
      expect(nf.headers['content-type']).toMatch(/json/);
      expect(nf.body.code).toBe('ROUTE_NOT_FOUND');
      const anon = await t.http().get('/api/nothing').expect(404);
      expect(anon.headers['content-type']).toMatch(/json/);
      const wm = await t.http().put('/api/v1/auth/login').send({}).expect(405);
      expect(wm.body.code).toBe('METHOD_NOT_ALLOWED');
      expect(wm.headers.allow).toContain('POST');
    });

    it('serves the Swagger UI at / and the spec at /openapi.json and /swagger.json', async () => {
      const ui = await t.http().get('/').expect(200);
      expect(ui.text).toContain('swagger-ui');
      const spec = await t.http().get('/openapi.json').expect(200);
      expect(spec.body.openapi).toMatch(/^3\./);
      expect(spec.body.paths['/api/v1/auth/login'].post).toBeDefined();
      expect(spec.body.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
      const alias = await t.http().get('/swagger.json').expect(200);
      expect(alias.body.paths).toEqual(spec.body.paths);
    });

    it('health: liveness is "healthy"; readiness checks Postgres and Redis', async () => {
      expect((await t.http().get('/health').expect(200)).body).toBe('healthy');
      const ready = await t.http().get('/health/ready').expect(200);
      expect(ready.body.details).toMatchObject({ database: { status: 'up' }, redis: { status: 'up' } });
    });
  });
});

describe('readiness with Redis down', () => {
  it('answers 503 naming redis', async () => {
    const t = await startApp({ env: { REDIS_URL: 'redis://127.0.0.1:1' } });
    try {
      const res = await t.http().get('/health/ready').expect(503);
      expect(res.body.details.redis.status).toBe('down');
      expect(res.body.details.database.status).toBe('up');
    } finally {
      await t.close();
    }
  });
});

describe('login rate limit', () => {
  it('the 11th attempt within a minute from one client gets 429 with Retry-After', async () => {
    const t = await startApp({ env: { LOGIN_RATE_LIMIT: '10' } });
    try {
      for (let i = 0; i < 10; i++) await t.http().post('/api/v1/auth/login').send({ username: 'admin', password: 'wrong-password' }).expect(401);
      const res = await t.http().post('/api/v1/auth/login').send({ username: 'admin', password: ADMIN_PASSWORD }).expect(429);
      expect(res.body.code).toBe('TOO_MANY_REQUESTS');
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    } finally {
      await t.close();
    }
  });
});

describe('revocation across API processes (token checks cached, evicted through Redis)', () => {
  /** Asks `t` until the token is refused; how long after `since` that was (or null if it never was within 2 s). */
  const refusedAfter = async (t: TestApp, token: string, since: number): Promise<number | null> => {
    while (Date.now() - since < 2000) {
      const res = await t.http().get('/api/v1/me').set(bearer(token));
      if (res.status === 401) return Date.now() - since;
      expect(res.status).toBe(200);
      await new Promise((r) => setTimeout(r, 10));
    }
    return null;
  };

  it('a token revoked on one API process is refused by the other at once, though the other has just checked it', async () => {
    const shared = { REDIS_PREFIX: `alidade-t-${process.env.ALIDADE_TEST_RUN}-evict-${process.pid}` };
    const a = await startApp({ env: shared });
    const b = await startApp({ env: shared, databaseUrl: a.databaseUrl });
    try {
      const admin = await login(a, 'admin', ADMIN_PASSWORD);
      const ivy = await createUser(a, admin, 'ivy');
      const access = (await a.http().post('/api/v1/tokens').set(bearer(ivy.token)).send({}).expect(201)).body;
      const second = await login(b, 'ivy', 'ivy-password');

      // Access token revoked on a: b checked it a moment ago, so its cache alone would accept it for up to a second.
      await b.http().get('/api/v1/me').set(bearer(access.token)).expect(200);
      let since = Date.now();
      await a.http().delete(`/api/v1/tokens/${access.tokenId}`).set(bearer(ivy.token)).expect(200);
      const tokenMs = await refusedAfter(b, access.token, since);

      // Logout on a of a login token b has just checked.
      await b.http().get('/api/v1/me').set(bearer(ivy.token)).expect(200);
      since = Date.now();
      await a.http().post('/api/v1/auth/logout').set(bearer(ivy.token)).expect(200);
      const logoutMs = await refusedAfter(b, ivy.token, since);

      // Deactivation on a: b refuses the user's other login token (403 names why; then the revocation holds).
      await b.http().get('/api/v1/me').set(bearer(second)).expect(200);
      since = Date.now();
      await a.http().patch(`/api/v1/users/${ivy.id}`).set(bearer(admin)).send({ active: false }).expect(200);
      let deactivatedMs: number | null = null;
      while (Date.now() - since < 2000) {
        const res = await b.http().get('/api/v1/me').set(bearer(second));
        if (res.status === 403) {
          deactivatedMs = Date.now() - since;
          break;
        }
        await new Promise((r) => setTimeout(r, 10));
      }

      for (const ms of [tokenMs, logoutMs, deactivatedMs]) {
        expect(ms).not.toBeNull();
        // Well under the cache's second: the eviction message, not the expiry, did it.
        expect(ms!).toBeLessThan(500);
      }
    } finally {
      await b.close();
      await a.close();
    }
  });
});

describe('login rate limit across API processes and behind proxies', () => {
  const attempt = (t: TestApp, forwardedFor?: string) => {
    const req = t.http().post('/api/v1/auth/login');
    if (forwardedFor) req.set('X-Forwarded-For', forwardedFor);
    return req.send({ username: 'admin', password: 'wrong-password' });
  };

  it('two API processes on one Redis count the same attempts; X-Forwarded-For is ignored without TRUST_PROXY', async () => {
    const shared = { LOGIN_RATE_LIMIT: '3', REDIS_PREFIX: `alidade-t-${process.env.ALIDADE_TEST_RUN}-throttle-${process.pid}` };
    const a = await startApp({ env: shared });
    const b = await startApp({ env: shared, databaseUrl: a.databaseUrl });
    try {
      await attempt(a).expect(401);
      await attempt(b, '10.0.0.1').expect(401);
      await attempt(a, '10.0.0.2').expect(401);
      const res = await attempt(b, '10.0.0.3').expect(429);
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
      await attempt(a).expect(429);
    } finally {
      await b.close();
      await a.close();
    }
  });

  it('with TRUST_PROXY, each forwarded client has its own budget', async () => {
    const t = await startApp({ env: { LOGIN_RATE_LIMIT: '2', TRUST_PROXY: 'loopback' } });
    try {
      await attempt(t, '203.0.113.7').expect(401);
      await attempt(t, '203.0.113.7').expect(401);
      await attempt(t, '203.0.113.7').expect(429);
      await attempt(t, '203.0.113.8').expect(401);
    } finally {
      await t.close();
    }
  });
});

/** Whether a TCP connection to host:port is accepted. */
function connects(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createConnection({ host, port });
    sock.setTimeout(2000, () => (sock.destroy(), resolve(false)));
    sock.on('error', () => resolve(false));
    sock.on('connect', () => (sock.destroy(), resolve(true)));
  });
}

const freePort = () =>
  new Promise<number>((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });

describe('AUTH_DISABLED listens on loopback unless HOST is set (a real `node dist/main.js api`)', () => {
  const external = Object.values(networkInterfaces()).flat().find((i) => i && i.family === 'IPv4' && !i.internal)?.address;

  async function serve(extra: Record<string, string>): Promise<{ port: number; log: () => string; stop: () => Promise<void> }> {
    const port = await freePort();
    const env = { ...testEnv(await createDatabase()), LOG_LEVEL: 'log', AUTH_DISABLED: 'true', PORT: String(port), ...extra };
    const child = spawn(process.execPath, [join(__dirname, '..', 'dist', 'main.js'), 'api'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    for (let i = 0; i < 200 && !/listening on/.test(out); i++) await new Promise((r) => setTimeout(r, 100));
    return { port, log: () => out, stop: () => new Promise((r) => (child.on('exit', () => r()), child.kill('SIGTERM'))) };
  }

  it('without HOST: 127.0.0.1 only, and the warning says so', async () => {
    const s = await serve({});
    try {
      expect(s.log()).toMatch(/Listening on 127\.0\.0\.1 \(loopback only; set HOST to listen elsewhere\)/);
      expect(await connects('127.0.0.1', s.port)).toBe(true);
      if (external) expect(await connects(external, s.port)).toBe(false);
    } finally {
      await s.stop();
    }
  });

  it('with HOST=0.0.0.0 set explicitly: every address', async () => {
    const s = await serve({ HOST: '0.0.0.0' });
    try {
      expect(s.log()).toMatch(/Listening on 0\.0\.0\.0 \(HOST is set\)/);
      if (external) expect(await connects(external, s.port)).toBe(true);
    } finally {
      await s.stop();
    }
  });
});

describe('AUTH_DISABLED', () => {
  it('acts as the bootstrap admin without a token', async () => {
    const t = await startApp({ env: { AUTH_DISABLED: 'true' } });
    try {
      const me = await t.http().get('/api/v1/me').expect(200);
      expect(me.body.user).toMatchObject({ username: 'admin', admin: true });
      await t.http().get('/api/v1/users').expect(200);
    } finally {
      await t.close();
    }
  });
});

describe('path ids', () => {
  it('are plain decimal integers: 0x1 and 1e0 are refused with 400, not read as 1', async () => {
    const t = await startApp();
    try {
      const admin = await login(t, 'admin', ADMIN_PASSWORD);
      await t.http().get('/api/v1/users/1').set(bearer(admin)).expect(200);
      for (const bad of ['0x1', '1e0', '1.0', ' 1']) {
        const res = await t.http().get(`/api/v1/users/${encodeURIComponent(bad)}`).set(bearer(admin)).expect(400);
        expect(res.body.code).toBe('VALIDATION_FAILED');
      }
    } finally {
      await t.close();
    }
  });
});
