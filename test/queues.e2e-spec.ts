// /api/v1/queues (API.md §1.2, §4), as a client sees them.
import { ADMIN_PASSWORD, bearer, createUser, login, startApp, TestApp } from './utils/harness';

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

describe('queues (/api/v1/queues)', () => {
  let t: TestApp;
  let admin: string;
  let user: string;
  const create = (body: Record<string, unknown>, token = admin) => t.http().post('/api/v1/queues').set(bearer(token)).send(body);
  const list = (query: string) => t.http().get(`/api/v1/queues${query}`).set(bearer(admin));
  const names = async (query: string) => (await list(query).expect(200)).body.queues.map((q: { name: string }) => q.name);

  beforeAll(async () => {
    t = await startApp();
    admin = await login(t, 'admin', ADMIN_PASSWORD);
    user = (await createUser(t, admin, 'erin')).token;
  });
  afterAll(() => t.close());

  it('POST (admin) → 201 {queue} with every field; slugified; visible to everyone', async () => {
    const res = await create({ name: 'TensorFlow CPU', description: 'cpu boxes' }).expect(201);
    const q = res.body.queue;
    expect(Object.keys(q).sort()).toEqual(['createdAt', 'description', 'devices', 'id', 'jobCounts', 'lastModified', 'locked', 'lockedAt', 'memoryLimit', 'name', 'network', 'pidsLimit']);
    expect(q).toMatchObject({ network: null, devices: [], memoryLimit: null, pidsLimit: null });
    expect(q).toMatchObject({ id: 1, name: 'tensorflow-cpu', description: 'cpu boxes', locked: false, lockedAt: null, jobCounts: { queued: 0, deferred: 0, started: 0 } });
    expect(q.createdAt).toMatch(ISO);
    expect((await t.http().get('/api/v1/queues/1').set(bearer(user)).expect(200)).body).toEqual(res.body);
  });

  it('duplicates (live or deleted names) → 409 QUEUE_ALREADY_EXISTS; bad names → 400; concurrent creates never 500', async () => {
    expect((await create({ name: 'tensorflow-cpu' }).expect(409)).body.code).toBe('QUEUE_ALREADY_EXISTS');
    const gone = (await create({ name: 'gone' }).expect(201)).body.queue;
    await t.http().delete(`/api/v1/queues/${gone.id}`).set(bearer(admin)).expect(200);
    expect((await create({ name: 'gone' }).expect(409)).body.code).toBe('QUEUE_ALREADY_EXISTS');
    for (const body of [{}, { name: '' }, { name: 'q'.repeat(256) }, { name: 'a/b' }, { name: 'x', locked: true }, { name: 'n\u0000' }, { name: 'y', description: '\u0000' }]) {
      const res = await create(body);
      expect({ body, status: res.status }).toEqual({ body, status: 400 });
    }
    const raced = await Promise.all(Array.from({ length: 6 }, () => create({ name: 'raced' })));
    expect(raced.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409, 409]);
  });

  it('PATCH (admin) renames (slugified) and describes; onto a taken name → 409', async () => {
    const id = (await create({ name: 'old-name' }).expect(201)).body.queue.id;
    const res = await t.http().patch(`/api/v1/queues/${id}`).set(bearer(admin)).send({ name: 'New Name', description: 'd' }).expect(200);
    expect(res.body.queue).toMatchObject({ id, name: 'new-name', description: 'd' });
    expect((await t.http().patch(`/api/v1/queues/${id}`).set(bearer(admin)).send({ name: 'tensorflow-cpu' }).expect(409)).body.code).toBe('QUEUE_ALREADY_EXISTS');
    expect((await t.http().patch(`/api/v1/queues/${id}`).set(bearer(admin)).send({ name: 'gone' }).expect(409)).body.code).toBe('QUEUE_ALREADY_EXISTS');
    await t.http().patch('/api/v1/queues/999999').set(bearer(admin)).send({ description: 'x' }).expect(404);
  });

  it('lock and unlock (admin) are idempotent and reply {queue}; the list shows locked queues too', async () => {
    const id = (await create({ name: 'gpu' }).expect(201)).body.queue.id;
    const locked = await t.http().put(`/api/v1/queues/${id}/lock`).set(bearer(admin)).expect(200);
    expect(locked.body.queue).toMatchObject({ id, locked: true });
    expect(locked.body.queue.lockedAt).toMatch(ISO);
    const again = await t.http().put(`/api/v1/queues/${id}/lock`).set(bearer(admin)).expect(200);
    expect(again.body.queue.lockedAt).toBe(locked.body.queue.lockedAt);
    expect(await names('?locked=true')).toEqual(['gpu']);
    expect(await names('')).toContain('gpu');
    const unlocked = await t.http().delete(`/api/v1/queues/${id}/lock`).set(bearer(admin)).expect(200);
    expect(unlocked.body.queue).toMatchObject({ id, locked: false, lockedAt: null });
    await t.http().delete(`/api/v1/queues/${id}/lock`).set(bearer(admin)).expect(200);
    expect(await names('?locked=true')).toEqual([]);
    await t.http().put('/api/v1/queues/999999/lock').set(bearer(admin)).expect(404);
  });

  it('DELETE (admin) → {}; then 404 everywhere', async () => {
    const id = (await create({ name: 'short-lived' }).expect(201)).body.queue.id;
    expect((await t.http().delete(`/api/v1/queues/${id}`).set(bearer(admin)).expect(200)).body).toEqual({});
    await t.http().get(`/api/v1/queues/${id}`).set(bearer(admin)).expect(404);
    await t.http().delete(`/api/v1/queues/${id}`).set(bearer(admin)).expect(404);
    await t.http().put(`/api/v1/queues/${id}/lock`).set(bearer(admin)).expect(404);
    expect(await names('')).not.toContain('short-lived');
  });

  it('a non-admin cannot create, rename, delete, lock or unlock (403, nothing changes)', async () => {
    const before = (await list('').expect(200)).body;
    const denied = [
      t.http().post('/api/v1/queues').send({ name: 'mine' }),
      t.http().patch('/api/v1/queues/1').send({ name: 'mine' }),
      t.http().delete('/api/v1/queues/1'),
      t.http().put('/api/v1/queues/1/lock'),
      t.http().delete('/api/v1/queues/1/lock'),
    ];
    for (const req of denied) expect((await req.set(bearer(user)).expect(403)).body.code).toBe('PERMISSION_DENIED');
    expect((await list('').expect(200)).body).toEqual(before);
    await t.http().get('/api/v1/queues').set(bearer(user)).expect(200);
  });
});

describe('queue lists (/api/v1/queues, fresh database)', () => {
  let t: TestApp;
  let admin: string;
  const list = (query: string) => t.http().get(`/api/v1/queues${query}`).set(bearer(admin));
  const ids = async (query: string) => (await list(query).expect(200)).body.queues.map((q: { id: number }) => q.id);

  beforeAll(async () => {
    t = await startApp();
    admin = await login(t, 'admin', ADMIN_PASSWORD);
    for (const name of ['tf_cpu', 'tf_gpu', 'pt_cpu', 'pt_gpu']) await t.http().post('/api/v1/queues').set(bearer(admin)).send({ name }).expect(201);
    await t.http().put('/api/v1/queues/2/lock').set(bearer(admin)).expect(200);
  });
  afterAll(() => t.close());

  it('filters name (substring, case-insensitive, wildcards literal) and locked (true/false only)', async () => {
    expect(await ids('')).toEqual([1, 2, 3, 4]);
    expect(await ids('?name=GPU')).toEqual([2, 4]);
    expect(await ids('?name=_c')).toEqual([1, 3]);
    expect(await ids('?name=%25')).toEqual([]);
    expect(await ids('?locked=true')).toEqual([2]);
    expect(await ids('?locked=false')).toEqual([1, 3, 4]);
    await list('?locked=yes').expect(400);
    await list('?name=%00').expect(400);
  });

  it('sorts and pages', async () => {
    expect(await ids('?sortBy=name')).toEqual([3, 4, 1, 2]);
    expect(await ids('?orderBy=desc&limit=2')).toEqual([4, 3]);
    const res = await list('?offset=-1').expect(200);
    expect(res.body.pagination).toEqual({ offset: -1, limit: 100, startIndex: 3, endIndex: 4, total: 4 });
    expect((await list('?offset=9').expect(200)).body).toEqual({ queues: [], pagination: { offset: 9, limit: 100, startIndex: 4, endIndex: 4, total: 4 } });
    await list('?limit=1001').expect(400);
    await list('?sortBy=jobCounts').expect(400);
  });

  it('the Dioptra list hides the locked queue; v1 and Dioptra see the same rows', async () => {
    const dioptra = (await t.http().get('/api/queue/').set(bearer(admin)).expect(200)).body;
    expect(dioptra.map((q: { queueId: number }) => q.queueId)).toEqual([1, 3, 4]);
    const v1 = (await t.http().get('/api/v1/queues/3').set(bearer(admin)).expect(200)).body.queue;
    expect(dioptra[1]).toMatchObject({ queueId: v1.id, name: v1.name });
  });
});
