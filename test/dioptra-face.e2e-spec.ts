// Plumbing shared by every Dioptra route (reference/dioptra-v0-api.md §1): JSON errors for unknown routes and
// methods, X-Fields, bodies in any spelling; the one face sees the same rows as /api/v1.
import { ADMIN_PASSWORD, bearer, login, startApp, TestApp } from './utils/harness';

describe('Dioptra face plumbing', () => {
  let t: TestApp;
  let admin: string;
  beforeAll(async () => {
    t = await startApp();
    admin = await login(t, 'admin', ADMIN_PASSWORD);
  });
  afterAll(() => t.close());

  it('a wrong method on a known route → JSON 405 with Dioptra\'s text; an unknown path → JSON 404 "Not Found"', async () => {
    const res = await t.http().post('/api/experiment/1').set(bearer(admin)).send({ name: 'x' }).expect(405);
    expect(res.body.message).toBe('The method is not allowed for the requested URL.');
    const missing = await t.http().get('/api/experiment/1/extra').set(bearer(admin)).expect(404);
    expect(missing.body.message).toContain('Not Found');
  });

  it('a mask that does not parse → 400 before anything happens', async () => {
    const res = await t.http().post('/api/queue/').set(bearer(admin)).set('X-Fields', 'name}').send({ name: 'never-created' }).expect(400);
    expect(typeof res.body.message).toBe('string');
    await t.http().get('/api/queue/name/never-created').set(bearer(admin)).expect(404);
  });

  it('X-Fields does not touch /api/v1 replies', async () => {
    const res = await t.http().get('/api/v1/experiments').set(bearer(admin)).set('X-Fields', 'name').expect(200);
    expect(res.body).toHaveProperty('pagination');
  });

  it('one row, two faces: created on either face, seen on the other with the same id and name', async () => {
    const viaDioptra = (await t.http().post('/api/experiment/').set(bearer(admin)).send({ name: 'Two Faces' }).expect(200)).body;
    const v1 = (await t.http().get(`/api/v1/experiments/${viaDioptra.experimentId}`).set(bearer(admin)).expect(200)).body.experiment;
    expect(v1).toMatchObject({ id: viaDioptra.experimentId, name: 'two-faces' });
    expect(new Date(v1.startTime).getTime()).toBe(new Date(`${viaDioptra.createdOn}Z`).getTime());
    const viaV1 = (await t.http().post('/api/v1/queues').set(bearer(admin)).send({ name: 'from-v1' }).expect(201)).body.queue;
    expect((await t.http().get('/api/queue/name/from-v1').set(bearer(admin)).expect(200)).body).toMatchObject({ queueId: viaV1.id, name: 'from-v1' });
    // Locked through v1 → hidden from Dioptra's list, still readable by id.
    await t.http().put(`/api/v1/queues/${viaV1.id}/lock`).set(bearer(admin)).expect(200);
    expect((await t.http().get('/api/queue/').set(bearer(admin)).expect(200)).body.map((q: { name: string }) => q.name)).not.toContain('from-v1');
    await t.http().get(`/api/queue/${viaV1.id}`).set(bearer(admin)).expect(200);
  });
});
