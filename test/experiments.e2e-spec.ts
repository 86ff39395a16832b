// /api/v1/experiments (API.md §1.2, §3; determined-rest.md §1.4–1.6), as a client sees them.
import { ADMIN_PASSWORD, bearer, createUser, login, startApp, TestApp } from './utils/harness';

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const KEYS = ['archived', 'description', 'endTime', 'id', 'labels', 'lastModified', 'name', 'numTrials', 'progress', 'startTime', 'state', 'username'];

describe('experiments (/api/v1/experiments)', () => {
  let t: TestApp;
  let admin: string;
  let alice: { id: number; token: string };
  let bob: { id: number; token: string };
  const create = (body: Record<string, unknown>, token = admin) => t.http().post('/api/v1/experiments').set(bearer(token)).send(body);
  const list = (query: string, token = admin) => t.http().get(`/api/v1/experiments${query}`).set(bearer(token));

  beforeAll(async () => {
    t = await startApp();
    admin = await login(t, 'admin', ADMIN_PASSWORD);
    alice = await createUser(t, admin, 'alice');
    bob = await createUser(t, admin, 'bob');
  });
  afterAll(() => t.close());

  describe('create and read', () => {
    it('POST → 201 {experiment} with every field; the name is slugified; the caller owns it', async () => {
      const res = await create({ name: 'My First Experiment', description: 'about it', labels: ['vision', 'fgm', 'vision'] }, alice.token).expect(201);
      const e = res.body.experiment;
      expect(Object.keys(e).sort()).toEqual(KEYS);
      expect(e).toMatchObject({
        id: 1,
        name: 'my-first-experiment',
        description: 'about it',
        labels: ['vision', 'fgm'],
        archived: false,
        state: 'STATE_COMPLETED',
        numTrials: 0,
        progress: 0,
        username: 'alice',
        endTime: null,
      });
      expect(e.startTime).toMatch(ISO);
      expect(e.lastModified).toMatch(ISO);
      expect((await t.http().get('/api/v1/experiments/1').set(bearer(bob.token)).expect(200)).body).toEqual(res.body);
    });

    it('defaults description to "" and labels to []', async () => {
      const e = (await create({ name: 'plain' }).expect(201)).body.experiment;
      expect(e).toMatchObject({ description: '', labels: [], username: 'admin' });
    });

    it('duplicates → 409 EXPERIMENT_ALREADY_EXISTS; the name of a deleted one → 409 EXPERIMENT_NAME_RESERVED', async () => {
      expect((await create({ name: 'PLAIN' }).expect(409)).body.code).toBe('EXPERIMENT_ALREADY_EXISTS');
      const gone = (await create({ name: 'to-be-deleted' }).expect(201)).body.experiment;
      await t.http().delete(`/api/v1/experiments/${gone.id}`).set(bearer(admin)).expect(200);
      const res = await create({ name: 'to-be-deleted' }).expect(409);
      expect(res.body).toMatchObject({ statusCode: 409, error: 'Conflict', code: 'EXPERIMENT_NAME_RESERVED' });
      // ids are never reused
      expect((await create({ name: 'after-delete' }).expect(201)).body.experiment.id).toBeGreaterThan(gone.id);
    });

    it('concurrent creates of one name: one 201, the rest 409, never a 500', async () => {
      const results = await Promise.all(Array.from({ length: 8 }, () => create({ name: 'raced' })));
      expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409, 409, 409, 409]);
    });

    it('bad bodies → 400: empty/long/slash names, unknown fields, wrong types', async () => {
      const bodies = [{}, { name: '' }, { name: '   ' }, { name: 'x'.repeat(256) }, { name: 'a/b' }, { name: 5 }, { name: 'ok', owner: 1 }, { name: 'ok', labels: 'x' }, { name: 'ok', labels: [1] }, { name: 'nul\u0000' }, { name: 'ok2', description: 'a\u0000' }, { name: 'ok3', labels: ['\u0000'] }];
      for (const body of bodies) {
        const res = await create(body);
        expect({ body, status: res.status }).toEqual({ body, status: 400 });
        expect(res.body).toMatchObject({ code: 'VALIDATION_FAILED', details: { fields: expect.any(Object) } });
      }
      expect((await create({ name: 'x'.repeat(256) })).body).toMatchObject({ code: 'VALIDATION_FAILED', details: { fields: { name: [expect.any(String)] } } });
      await create({ name: 'x'.repeat(255) }).expect(201);
    });

    it('unknown ids → 404 EXPERIMENT_NOT_FOUND; non-integer ids and ids beyond int4 → 400', async () => {
      expect((await t.http().get('/api/v1/experiments/999999').set(bearer(admin)).expect(404)).body.code).toBe('EXPERIMENT_NOT_FOUND');
      await t.http().get('/api/v1/experiments/99999999999999').set(bearer(admin)).expect(400);
      await t.http().get('/api/v1/experiments/abc').set(bearer(admin)).expect(400);
    });
  });

  describe('patch, delete, archive: owner or admin', () => {
    let id: number;
    beforeAll(async () => {
      id = (await create({ name: 'alices-experiment', labels: ['a'] }, alice.token).expect(201)).body.experiment.id;
    });

    it('PATCH by the owner renames (slugified) and replaces description and labels; others → 403', async () => {
      const res = await t.http().patch(`/api/v1/experiments/${id}`).set(bearer(alice.token)).send({ name: 'Alices Experiment 2', description: 'd', labels: ['b', 'c'] }).expect(200);
      expect(res.body.experiment).toMatchObject({ id, name: 'alices-experiment-2', description: 'd', labels: ['b', 'c'] });
      const denied = await t.http().patch(`/api/v1/experiments/${id}`).set(bearer(bob.token)).send({ description: 'bob was here' }).expect(403);
      expect(denied.body.code).toBe('PERMISSION_DENIED');
      await t.http().patch(`/api/v1/experiments/${id}`).set(bearer(admin)).send({ description: 'admin edit' }).expect(200);
      expect((await t.http().get(`/api/v1/experiments/${id}`).set(bearer(bob.token))).body.experiment.description).toBe('admin edit');
    });

    it('PATCH onto a taken name → 409; onto its own name → 200; unknown fields → 400', async () => {
      expect((await t.http().patch(`/api/v1/experiments/${id}`).set(bearer(alice.token)).send({ name: 'plain' }).expect(409)).body.code).toBe('EXPERIMENT_ALREADY_EXISTS');
      await t.http().patch(`/api/v1/experiments/${id}`).set(bearer(alice.token)).send({ name: 'alices-experiment-2' }).expect(200);
      await t.http().patch(`/api/v1/experiments/${id}`).set(bearer(alice.token)).send({ archived: true }).expect(400);
    });

    it("archive/unarchive: others → 403; Determined's texts for already archived / not archived; archived shows in the list filter", async () => {
      expect((await t.http().post(`/api/v1/experiments/${id}/archive`).set(bearer(bob.token)).expect(403)).body.code).toBe('PERMISSION_DENIED');
      expect((await t.http().post(`/api/v1/experiments/${id}/unarchive`).set(bearer(alice.token)).expect(400)).body).toMatchObject({
        code: 'EXPERIMENT_NOT_ARCHIVED',
        message: 'Experiment is not archived.',
      });
      expect((await t.http().post(`/api/v1/experiments/${id}/archive`).set(bearer(alice.token)).expect(200)).body).toEqual({});
      expect((await t.http().post(`/api/v1/experiments/${id}/archive`).set(bearer(alice.token)).expect(400)).body).toMatchObject({
        statusCode: 400,
        error: 'Bad Request',
        code: 'EXPERIMENT_ALREADY_ARCHIVED',
        message: 'Experiment is already archived.',
      });
      expect((await t.http().get(`/api/v1/experiments/${id}`).set(bearer(admin))).body.experiment.archived).toBe(true);
      const page = await list('?archived=true&limit=1').expect(200);
      expect(page.body).toEqual({ experiments: [expect.objectContaining({ id, archived: true })], pagination: { offset: 0, limit: 1, startIndex: 0, endIndex: 1, total: 1 } });
      expect((await t.http().post(`/api/v1/experiments/${id}/unarchive`).set(bearer(bob.token)).expect(403)).body.code).toBe('PERMISSION_DENIED');
      expect((await t.http().post(`/api/v1/experiments/${id}/unarchive`).set(bearer(admin)).expect(200)).body).toEqual({});
      expect((await t.http().get(`/api/v1/experiments/${id}`).set(bearer(admin))).body.experiment.archived).toBe(false);
      await t.http().post('/api/v1/experiments/999999/archive').set(bearer(admin)).expect(404);
    });

    it('DELETE: another user → 403; the owner → {} and then 404; again → 404', async () => {
      expect((await t.http().delete(`/api/v1/experiments/${id}`).set(bearer(bob.token)).expect(403)).body.code).toBe('PERMISSION_DENIED');
      expect((await t.http().delete(`/api/v1/experiments/${id}`).set(bearer(alice.token)).expect(200)).body).toEqual({});
      await t.http().get(`/api/v1/experiments/${id}`).set(bearer(admin)).expect(404);
      await t.http().delete(`/api/v1/experiments/${id}`).set(bearer(alice.token)).expect(404);
    });

    it('an admin may delete anyone’s experiment', async () => {
      const other = (await create({ name: 'bobs-experiment' }, bob.token).expect(201)).body.experiment.id;
      await t.http().delete(`/api/v1/experiments/${other}`).set(bearer(admin)).expect(200);
    });
  });
});

describe('experiment lists (/api/v1/experiments, fresh database)', () => {
  let t: TestApp;
  let admin: string;
  const list = (query: string) => t.http().get(`/api/v1/experiments${query}`).set(bearer(admin));
  const ids = async (query: string) => (await list(query).expect(200)).body.experiments.map((e: { id: number }) => e.id);

  beforeAll(async () => {
    t = await startApp();
    admin = await login(t, 'admin', ADMIN_PASSWORD);
    const dave = await createUser(t, admin, 'Dave');
    const specs: Array<[string, string[], string]> = [
      ['alpha', ['cv', 'fgm'], admin],
      ['Beta_Percent%', ['cv'], dave.token],
      ['gamma', [], admin],
      ['delta', ['fgm'], dave.token],
      ['epsilon', ['cv', 'fgm', 'extra'], admin],
    ];
    for (const [name, labels, token] of specs) await t.http().post('/api/v1/experiments').set(bearer(token)).send({ name, labels }).expect(201);
    await t.http().post('/api/v1/experiments/3/archive').set(bearer(admin)).expect(200);
  });
  afterAll(() => t.close());

  it('defaults: all, id ascending, limit 100', async () => {
    const res = await list('').expect(200);
    expect(res.body.experiments.map((e: { id: number }) => e.id)).toEqual([1, 2, 3, 4, 5]);
    expect(res.body.pagination).toEqual({ offset: 0, limit: 100, startIndex: 0, endIndex: 5, total: 5 });
  });

  it('filters: name (case-insensitive substring, wildcards literal), archived true/false, labels must-have-all, users, states', async () => {
    expect(await ids('?name=ALPH')).toEqual([1]);
    expect(await ids('?name=%25')).toEqual([2]);
    expect(await ids('?name=_')).toEqual([2]);
    expect(await ids('?archived=true')).toEqual([3]);
    expect(await ids('?archived=false')).toEqual([1, 2, 4, 5]);
    expect(await ids('?labels=cv')).toEqual([1, 2, 5]);
    expect(await ids('?labels=cv&labels=fgm')).toEqual([1, 5]);
    expect(await ids('?labels=nope')).toEqual([]);
    expect(await ids('?users=dave')).toEqual([2, 4]);
    expect(await ids('?users=dave&users=admin')).toEqual([1, 2, 3, 4, 5]);
    expect(await ids('?states=STATE_COMPLETED')).toEqual([1, 2, 3, 4, 5]);
    expect(await ids('?states=STATE_ACTIVE')).toEqual([]);
    expect(await ids('?states=STATE_ACTIVE&states=STATE_COMPLETED&labels=fgm&users=dave')).toEqual([4]);
    const filtered = await list('?labels=fgm&limit=1').expect(200);
    expect(filtered.body.pagination).toEqual({ offset: 0, limit: 1, startIndex: 0, endIndex: 1, total: 3 });
  });

  it('sorts: id, name, startTime, lastModified, numTrials; asc or desc', async () => {
    expect(await ids('?orderBy=desc')).toEqual([5, 4, 3, 2, 1]);
    expect(await ids('?sortBy=name')).toEqual([1, 2, 4, 5, 3]);
    expect(await ids('?sortBy=name&orderBy=desc')).toEqual([3, 5, 4, 2, 1]);
    expect(await ids('?sortBy=startTime')).toEqual([1, 2, 3, 4, 5]);
    expect(await ids('?sortBy=lastModified&orderBy=desc')).toEqual([3, 5, 4, 2, 1]);
    expect(await ids('?sortBy=numTrials')).toEqual([1, 2, 3, 4, 5]);
    expect(await ids('?sortBy=numTrials&orderBy=desc')).toEqual([5, 4, 3, 2, 1]);
  });

  it('pagination: negative offset counts from the end; past the end is an empty page; limit bounds', async () => {
    const neg = await list('?offset=-2').expect(200);
    expect(neg.body.experiments.map((e: { id: number }) => e.id)).toEqual([4, 5]);
    expect(neg.body.pagination).toEqual({ offset: -2, limit: 100, startIndex: 3, endIndex: 5, total: 5 });
    const past = await list('?offset=10&limit=2').expect(200);
    expect(past.body).toEqual({ experiments: [], pagination: { offset: 10, limit: 2, startIndex: 5, endIndex: 5, total: 5 } });
    const middle = await list('?offset=1&limit=2').expect(200);
    expect(middle.body.experiments.map((e: { id: number }) => e.id)).toEqual([2, 3]);
    expect(middle.body.pagination).toEqual({ offset: 1, limit: 2, startIndex: 1, endIndex: 3, total: 5 });
    await list('?limit=1000').expect(200);
    for (const q of ['?limit=1001', '?limit=0', '?limit=abc', '?offset=1.5', '?archived=yes', '?archived=1', '?sortBy=owner', '?orderBy=up', '?states=RUNNING', '?bogus=1', '?name=%00', '?users=%00', '?labels=%00']) {
      const res = await list(q);
      expect({ q, status: res.status, code: res.body.code }).toEqual({ q, status: 400, code: 'VALIDATION_FAILED' });
    }
  });
});
