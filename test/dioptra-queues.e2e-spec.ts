// The Dioptra face's queue routes (reference/dioptra-v0-api.md §2.4, §7.2, §8 Q-*, C-Q-*, §8.3), as a client sees them.
import { ADMIN_PASSWORD, bearer, createUser, login, startApp, TestApp } from './utils/harness';

const DIOPTRA_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?$/;
const ALREADY_EXISTS = 'Bad Request - The queue name on the registration form already exists. Please select another and resubmit.';
const REGISTRATION = 'Bad Request - The queue registration form contains invalid parameters. Please verify and resubmit.';
const NOT_FOUND = 'Not Found - The requested queue does not exist';

describe('Dioptra queues (/api/queue/)', () => {
  let t: TestApp;
  let admin: string;
  const auth = () => bearer(admin);
  const register = (name: string, token = admin) => t.http().post('/api/queue/').set(bearer(token)).send({ name });
  const listNames = async () => (await t.http().get('/api/queue/').set(auth()).expect(200)).body.map((q: { name: string }) => q.name);

  beforeAll(async () => {
    t = await startApp();
    admin = await login(t, 'admin', ADMIN_PASSWORD);
  });
  afterAll(() => t.close());

  it('Q-01 / C-Q-02: fresh database; ids 1 and 2; GET by id and by name equal the POST replies; the list (with and without slash) is [q1, q2]', async () => {
    const q1 = await register('tensorflow_cpu').expect(200);
    const q2 = await register('pytorch_cpu').expect(200);
    expect(Object.keys(q1.body).sort()).toEqual(['createdOn', 'lastModified', 'name', 'queueId']);
    expect([q1.body.queueId, q2.body.queueId]).toEqual([1, 2]);
    expect(q1.body.createdOn).toMatch(DIOPTRA_TIME);
    for (const q of [q1, q2]) {
      expect((await t.http().get(`/api/queue/${q.body.queueId}`).set(auth()).expect(200)).text).toBe(q.text);
      expect((await t.http().get(`/api/queue/name/${q.body.name}`).set(auth()).expect(200)).text).toBe(q.text);
    }
    expect((await t.http().get('/api/queue').set(auth()).expect(200)).body).toEqual([q1.body, q2.body]);
    expect((await t.http().get('/api/queue/').set(auth()).expect(200)).body).toEqual([q1.body, q2.body]);
  });

  it('Q-02 / C-Q-02: registering a name twice → 400 QueueAlreadyExistsError', async () => {
    const res = await register('tensorflow_cpu').expect(400);
    expect(res.body.message).toBe(ALREADY_EXISTS);
    expect((await register('TensorFlow_CPU').expect(400)).body.message).toBe(ALREADY_EXISTS);
  });

  it('Q-03 / C-Q-03: PUT /api/queue/{id} renames; createdOn unchanged, lastModified moves', async () => {
    const created = (await register('rename_me').expect(200)).body;
    await new Promise((r) => setTimeout(r, 5));
    const put = await t.http().put(`/api/queue/${created.queueId}`).set(auth()).send({ name: 'Renamed Queue' }).expect(200);
    expect(put.body).toMatchObject({ queueId: created.queueId, createdOn: created.createdOn, name: 'renamed-queue' });
    expect(put.body.lastModified).toMatch(DIOPTRA_TIME);
    expect(put.body.lastModified > created.lastModified).toBe(true);
    expect((await t.http().get(`/api/queue/${created.queueId}`).set(auth()).expect(200)).text).toBe(put.text);
  });

  it('C-Q-04: PUT /api/queue/name/{name} renames by name; renaming onto a taken name → 400, never 500', async () => {
    const created = (await register('tf_rename_src').expect(200)).body;
    const put = await t.http().put('/api/queue/name/tf_rename_src').set(auth()).send({ name: 'tf_rename_dst' }).expect(200);
    expect(put.body).toMatchObject({ queueId: created.queueId, name: 'tf_rename_dst' });
    expect((await t.http().put(`/api/queue/${created.queueId}`).set(auth()).send({ name: 'tensorflow_cpu' }).expect(400)).body.message).toBe(ALREADY_EXISTS);
    expect((await t.http().put('/api/queue/name/no-such-queue').set(auth()).send({ name: 'x' }).expect(404)).body.message).toBe(NOT_FOUND);
  });

  it('Q-04 / C-Q-05: DELETE /api/queue/{id} → {"status":"Success","id":[id]}; GET → 404; again or unknown → "id": []', async () => {
    const { queueId } = (await register('delete_by_id').expect(200)).body;
    expect((await t.http().delete(`/api/queue/${queueId}`).set(auth()).expect(200)).body).toEqual({ status: 'Success', id: [queueId] });
    expect((await t.http().get(`/api/queue/${queueId}`).set(auth()).expect(404)).body.message).toBe(NOT_FOUND);
    expect((await t.http().delete(`/api/queue/${queueId}`).set(auth()).expect(200)).body).toEqual({ status: 'Success', id: [] });
    expect((await t.http().delete('/api/queue/424242').set(auth()).expect(200)).body).toEqual({ status: 'Success', id: [] });
  });

  it('Q-05 / C-Q-08: DELETE /api/queue/name/{name} replies the primary (name) shape with the slugified name; GET by id → 404', async () => {
    const { queueId } = (await register('delete_by_name').expect(200)).body;
    expect((await t.http().delete('/api/queue/name/DELETE_BY_NAME').set(auth()).expect(200)).body).toEqual({ status: 'Success', name: ['delete_by_name'] });
    await t.http().get(`/api/queue/${queueId}`).set(auth()).expect(404);
    expect((await t.http().delete('/api/queue/name/delete_by_name').set(auth()).expect(200)).body).toEqual({ status: 'Success', name: [] });
  });

  it("a deleted queue's name stays reserved (400 QueueAlreadyExistsError) and its id is not reused", async () => {
    const first = (await register('ghost').expect(200)).body;
    await t.http().delete(`/api/queue/${first.queueId}`).set(auth()).expect(200);
    expect((await register('ghost').expect(400)).body.message).toBe(ALREADY_EXISTS);
    expect((await register('ghost-2').expect(200)).body.queueId).toBeGreaterThan(first.queueId);
  });

  it('Q-06 / C-Q-06 / C-Q-09: lock hides a queue from the list (still visible by id and name); idempotent by id', async () => {
    const gpu = (await register('tensorflow_gpu').expect(200)).body;
    const before = await listNames();
    expect(before).toContain('tensorflow_gpu');
    expect((await t.http().put(`/api/queue/${gpu.queueId}/lock`).set(auth()).expect(200)).body).toEqual({ status: 'Success', id: [gpu.queueId] });
    expect((await t.http().put(`/api/queue/${gpu.queueId}/lock`).set(auth()).expect(200)).body).toEqual({ status: 'Success', id: [] });
    const locked = await listNames();
    expect(locked.length).toBe(before.length - 1);
    expect(locked).not.toContain('tensorflow_gpu');
    // Locking does not change lastModified, and a locked queue is still readable.
    expect((await t.http().get(`/api/queue/${gpu.queueId}`).set(auth()).expect(200)).body).toEqual(gpu);
    expect((await t.http().get('/api/queue/name/tensorflow_gpu').set(auth()).expect(200)).body).toEqual(gpu);
    expect((await t.http().delete(`/api/queue/${gpu.queueId}/lock`).set(auth()).expect(200)).body).toEqual({ status: 'Success', id: [gpu.queueId] });
    expect((await t.http().delete(`/api/queue/${gpu.queueId}/lock`).set(auth()).expect(200)).body).toEqual({ status: 'Success', id: [] });
    expect(await listNames()).toEqual(before);
  });

  it('Q-07 / C-Q-07: lock and unlock by name reply {"status":"Success","name":[name]}; idempotent with "name": []', async () => {
    const before = await listNames();
    expect((await t.http().put('/api/queue/name/tensorflow_gpu/lock').set(auth()).expect(200)).body).toEqual({ status: 'Success', name: ['tensorflow_gpu'] });
    expect((await t.http().put('/api/queue/name/tensorflow_gpu/lock').set(auth()).expect(200)).body).toEqual({ status: 'Success', name: [] });
    expect((await listNames()).length).toBe(before.length - 1);
    expect((await t.http().delete('/api/queue/name/tensorflow_gpu/lock').set(auth()).expect(200)).body).toEqual({ status: 'Success', name: ['tensorflow_gpu'] });
    expect((await t.http().delete('/api/queue/name/tensorflow_gpu/lock').set(auth()).expect(200)).body).toEqual({ status: 'Success', name: [] });
    expect(await listNames()).toEqual(before);
  });

  it('lock/unlock by name compare the path value exactly (not slugified); unknown queues → 404 on every lock route', async () => {
    expect((await t.http().put('/api/queue/name/TENSORFLOW_GPU/lock').set(auth()).expect(404)).body.message).toBe(NOT_FOUND);
    expect((await t.http().delete('/api/queue/name/TENSORFLOW_GPU/lock').set(auth()).expect(404)).body.message).toBe(NOT_FOUND);
    expect((await t.http().put('/api/queue/987654/lock').set(auth()).expect(404)).body.message).toBe(NOT_FOUND);
    expect((await t.http().delete('/api/queue/987654/lock').set(auth()).expect(404)).body.message).toBe(NOT_FOUND);
    // A NUL in a path parameter is refused before any lookup (common/input-guards.ts).
    await t.http().put('/api/queue/name/a%00b/lock').set(auth()).expect(400);
    await t.http().get('/api/queue/name/a%00b').set(auth()).expect(400);
    // GET by name does slugify.
    await t.http().get('/api/queue/name/TENSORFLOW_GPU').set(auth()).expect(200);
  });

  it('a queue named "lock" or "name" is reachable by name (name routes win over ids)', async () => {
    await register('lock').expect(200);
    expect((await t.http().get('/api/queue/name/lock').set(auth()).expect(200)).body.name).toBe('lock');
    expect((await t.http().put('/api/queue/name/lock').set(auth()).send({ name: 'lock-renamed' }).expect(200)).body.name).toBe('lock-renamed');
  });

  it('C-Q-01: multipart and urlencoded forms register; text/plain JSON too', async () => {
    expect((await t.http().post('/api/queue/').set(auth()).field('name', 'form_queue').expect(200)).body.name).toBe('form_queue');
    expect((await t.http().post('/api/queue/').set(auth()).type('form').send({ name: 'urlencoded_queue' }).expect(200)).body.name).toBe('urlencoded_queue');
    expect((await t.http().post('/api/queue').set(auth()).set('Content-Type', 'text/plain').send('{"name":"plain_queue"}').expect(200)).body.name).toBe('plain_queue');
  });

  it('unknown keys, missing or empty names and names over 255 characters → 400 with the registration text, nothing created', async () => {
    const before = await listNames();
    for (const body of [{ name: 'q-extra', queueId: 3 }, {}, { name: '' }, { name: ' ' }, { name: 'q'.repeat(256) }, { name: null }, { name: 'nul\u0000' }]) {
      const res = await t.http().post('/api/queue/').set(auth()).send(body);
      expect({ body, status: res.status, message: res.body.message }).toEqual({ body, status: 400, message: REGISTRATION });
    }
    expect((await t.http().post('/api/queue/').set(auth()).field('name', 'q-form').field('locked', 'true').expect(400)).body.message).toBe(REGISTRATION);
    expect((await t.http().put('/api/queue/1').set(auth()).send({ name: 'x', extra: 1 }).expect(400)).body.message).toBe(REGISTRATION);
    expect((await t.http().put('/api/queue/1').set(auth()).send({}).expect(400)).body.message).toBe(REGISTRATION);
    expect(await listNames()).toEqual(before);
    await register('q'.repeat(255)).expect(200);
  });

  it('non-integer or negative ids → JSON 404 on every item route', async () => {
    for (const id of ['abc', '-1', '1.5', '1e3']) {
      const requests = [
        t.http().get(`/api/queue/${id}`),
        t.http().put(`/api/queue/${id}`).send({ name: 'x' }),
        t.http().delete(`/api/queue/${id}`),
        t.http().put(`/api/queue/${id}/lock`),
        t.http().delete(`/api/queue/${id}/lock`),
      ];
      for (const req of requests) {
        const res = await req.set(auth()).expect(404);
        expect(res.headers['content-type']).toMatch(/json/);
        expect(res.body.message).toContain('Not Found');
      }
    }
  });

  it('X-Fields trims queue objects, lists and status replies', async () => {
    const one = await t.http().get('/api/queue/1').set(auth()).set('X-Fields', 'queueId, name').expect(200);
    expect(one.body).toEqual({ queueId: 1, name: 'tensorflow_cpu' });
    const list = await t.http().get('/api/queue/').set(auth()).set('X-Fields', '{name}').expect(200);
    for (const q of list.body) expect(Object.keys(q)).toEqual(['name']);
    const all = await t.http().get('/api/queue/1').set(auth()).set('X-Fields', '*').expect(200);
    expect(Object.keys(all.body).sort()).toEqual(['createdOn', 'lastModified', 'name', 'queueId']);
  });

  describe('register_queues.py replay (§7.2): GET by name; on "Not Found" POST, then GET again', () => {
    async function registerQueues(names: string[], spelling: 'json' | 'form'): Promise<void> {
      for (const name of names) {
        const found = await t.http().get(`/api/queue/name/${name}`).set(auth());
        if (found.body === null || String(found.body.message ?? '').includes('Not Found')) {
          const post = t.http().post('/api/queue/').set(auth());
          await (spelling === 'json' ? post.send({ name }) : post.type('form').send({ name })).expect(200);
          const again = await t.http().get(`/api/queue/name/${name}`).set(auth()).expect(200);
          expect(again.body.name).toBe(name);
        } else {
          expect(found.status).toBe(200);
        }
      }
    }

    it('JSON spelling (primary client), run twice', async () => {
      const names = ['rq_tensorflow_cpu', 'rq_tensorflow_gpu', 'rq_pytorch_cpu', 'rq_pytorch_gpu'];
      await registerQueues(names, 'json');
      await registerQueues(names, 'json');
      expect(await listNames()).toEqual(expect.arrayContaining(names));
    });

    it('form spelling (classic client), run twice', async () => {
      const names = ['crq_tensorflow_cpu', 'crq_pytorch_gpu'];
      await registerQueues(names, 'form');
      await registerQueues(names, 'form');
      expect(await listNames()).toEqual(expect.arrayContaining(names));
    });
  });

  describe('permissions', () => {
    let user: string;
    beforeAll(async () => {
      user = (await createUser(t, admin, 'carol-dq')).token;
    });

    it('a non-admin may read but cannot create, rename, delete, lock or unlock a queue (403, nothing changes)', async () => {
      const before = (await t.http().get('/api/queue/').set(bearer(user)).expect(200)).body;
      await t.http().get('/api/queue/1').set(bearer(user)).expect(200);
      await t.http().get('/api/queue/name/tensorflow_cpu').set(bearer(user)).expect(200);
      const denied = [
        t.http().post('/api/queue/').send({ name: 'users-queue' }),
        t.http().put('/api/queue/1').send({ name: 'hijacked' }),
        t.http().put('/api/queue/name/tensorflow_cpu').send({ name: 'hijacked' }),
        t.http().delete('/api/queue/1'),
        t.http().delete('/api/queue/name/tensorflow_cpu'),
        t.http().put('/api/queue/1/lock'),
        t.http().delete('/api/queue/1/lock'),
        t.http().put('/api/queue/name/tensorflow_cpu/lock'),
        t.http().delete('/api/queue/name/tensorflow_cpu/lock'),
      ];
      for (const req of denied) {
        const res = await req.set(bearer(user)).expect(403);
        expect(res.body.message).toMatch(/^Forbidden/);
      }
      expect((await t.http().get('/api/queue/').set(bearer(user)).expect(200)).body).toEqual(before);
    });
  });
});
