// The Dioptra face's experiment routes (reference/dioptra-v0-api.md §2.2, §8 EXP-*, C-EXP-*, §8.3), as a client sees them.
import { ADMIN_PASSWORD, bearer, createUser, login, startApp, TestApp } from './utils/harness';

const DIOPTRA_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?$/;
const REGISTRATION = 'Bad Request - The experiment registration form contains invalid parameters. Please verify and resubmit.';
const ALREADY_EXISTS = 'Bad Request - The experiment name on the registration form already exists. Please select another and resubmit.';
const RESERVED = 'Bad Request - The experiment name on the registration form already exists on the MLFlow Tracking backend. Please select another and resubmit.';
const NOT_FOUND = 'Not Found - The requested experiment does not exist';

describe('Dioptra experiments (/api/experiment/)', () => {
  let t: TestApp;
  let admin: string;
  const auth = () => bearer(admin);
  const register = (name: string, token = admin) => t.http().post('/api/experiment/').set(bearer(token)).send({ name });

  beforeAll(async () => {
    t = await startApp();
    admin = await login(t, 'admin', ADMIN_PASSWORD);
  });
  afterAll(() => t.close());

  it('EXP-05 / C-EXP-04: on a fresh database the list is every registration in id order, with and without the trailing slash', async () => {
    expect((await t.http().get('/api/experiment/').set(auth()).expect(200)).body).toEqual([]);
    const r = [];
    for (const name of ['mnist1', 'mnist2', 'mnist3']) r.push((await register(name).expect(200)).body);
    expect(r.map((e) => e.experimentId)).toEqual([1, 2, 3]);
    expect((await t.http().get('/api/experiment').set(auth()).expect(200)).body).toEqual(r);
    expect((await t.http().get('/api/experiment/').set(auth()).expect(200)).body).toEqual(r);
  });

  it('EXP-01: POST JSON {name} → 200 Experiment with exactly experimentId, createdOn, lastModified, name', async () => {
    const res = await register('mnist_name').expect(200);
    expect(Object.keys(res.body).sort()).toEqual(['createdOn', 'experimentId', 'lastModified', 'name']);
    expect(res.body.name).toBe('mnist_name');
    expect(Number.isInteger(res.body.experimentId)).toBe(true);
    expect(res.body.createdOn).toMatch(DIOPTRA_TIME);
    expect(res.body.lastModified).toBe(res.body.createdOn);
  });

  it('EXP-02 / EXP-04: GET by name and by id equal the POST reply byte for byte', async () => {
    for (const name of ['mnist_id', 'retrieve']) {
      const created = await register(name).expect(200);
      const byName = await t.http().get(`/api/experiment/name/${name}`).set(auth()).expect(200);
      const byId = await t.http().get(`/api/experiment/${created.body.experimentId}`).set(auth()).expect(200);
      expect(byName.text).toBe(created.text);
      expect(byId.text).toBe(created.text);
    }
  });

  it('EXP-03 / C-EXP-03: registering an existing name → 400 ExperimentAlreadyExistsError, also after slugifying', async () => {
    await register('error').expect(200);
    expect((await register('error').expect(400)).body.message).toBe(ALREADY_EXISTS);
    expect((await register('  ERROR ').expect(400)).body.message).toBe(ALREADY_EXISTS);
  });

  it('EXP-06: PUT /api/experiment/{id} renames (slugified)', async () => {
    const { experimentId, createdOn } = (await register('mnist').expect(200)).body;
    expect((await t.http().get(`/api/experiment/${experimentId}`).set(auth()).expect(200)).body.name).toBe('mnist');
    const put = await t.http().put(`/api/experiment/${experimentId}`).set(auth()).send({ name: 'ImageNet' }).expect(200);
    expect(put.body).toMatchObject({ experimentId, name: 'imagenet', createdOn });
    const got = await t.http().get(`/api/experiment/${experimentId}`).set(auth()).expect(200);
    expect(got.text).toBe(put.text);
  });

  it('E7 (classic): PUT /api/experiment/name/{name} renames by (slugified) name; unknown → 404', async () => {
    const { experimentId } = (await register('by-name-old').expect(200)).body;
    const put = await t.http().put('/api/experiment/name/BY-NAME-OLD').set(auth()).send({ name: 'by-name-new' }).expect(200);
    expect(put.body).toMatchObject({ experimentId, name: 'by-name-new' });
    const missing = await t.http().put('/api/experiment/name/by-name-old').set(auth()).send({ name: 'x' }).expect(404);
    expect(missing.body.message).toBe(NOT_FOUND);
  });

  it('renaming onto a taken name → 400 (never a 500), onto its own name → 200', async () => {
    await register('taken-one').expect(200);
    const { experimentId } = (await register('taken-two').expect(200)).body;
    expect((await t.http().put(`/api/experiment/${experimentId}`).set(auth()).send({ name: 'taken-one' }).expect(400)).body.message).toBe(ALREADY_EXISTS);
    await t.http().put(`/api/experiment/${experimentId}`).set(auth()).send({ name: 'Taken-Two' }).expect(200);
  });

  it('EXP-07: DELETE by name replies {"status":"Success","name":[<as sent>]} and the experiment is gone', async () => {
    const { experimentId } = (await register('delete_name').expect(200)).body;
    await t.http().get(`/api/experiment/${experimentId}`).set(auth()).expect(200);
    const del = await t.http().delete('/api/experiment/name/DELETE_NAME').set(auth()).expect(200);
    expect(del.body).toEqual({ status: 'Success', name: ['DELETE_NAME'] });
    expect((await t.http().get(`/api/experiment/${experimentId}`).set(auth()).expect(404)).body.message).toBe(NOT_FOUND);
    expect(await t.http().delete('/api/experiment/name/delete_name').set(auth()).expect(200).then((r) => r.body)).toEqual({ status: 'Success', name: [] });
  });

  it('EXP-08: DELETE by id replies {"status":"Success","id":[id]}; GET → 404; deleting again or an unknown id → "id": []', async () => {
    const { experimentId } = (await register('delete_id').expect(200)).body;
    expect((await t.http().delete(`/api/experiment/${experimentId}`).set(auth()).expect(200)).body).toEqual({ status: 'Success', id: [experimentId] });
    expect((await t.http().get(`/api/experiment/${experimentId}`).set(auth()).expect(404)).body.message).toBe(NOT_FOUND);
    expect((await t.http().delete(`/api/experiment/${experimentId}`).set(auth()).expect(200)).body).toEqual({ status: 'Success', id: [] });
    expect((await t.http().delete('/api/experiment/999999').set(auth()).expect(200)).body).toEqual({ status: 'Success', id: [] });
    expect((await t.http().delete('/api/experiment/99999999999999999999').set(auth()).expect(200)).body).toEqual({ status: 'Success', id: [] });
  });

  it("a deleted experiment's name stays reserved (MLflow's 'already exists' text) and its id is never reused", async () => {
    const first = (await register('phoenix').expect(200)).body;
    await t.http().delete(`/api/experiment/${first.experimentId}`).set(auth()).expect(200);
    expect((await register('phoenix').expect(400)).body.message).toBe(RESERVED);
    const next = (await register('phoenix-2').expect(200)).body;
    expect(next.experimentId).toBeGreaterThan(first.experimentId);
    const { experimentId } = (await register('phoenix-3').expect(200)).body;
    expect((await t.http().put(`/api/experiment/${experimentId}`).set(auth()).send({ name: 'phoenix' }).expect(400)).body.message).toBe(RESERVED);
  });

  it('C-EXP-01: multipart and urlencoded forms register too', async () => {
    const multipart = await t.http().post('/api/experiment/').set(auth()).field('name', 'form-mnist').expect(200);
    expect(multipart.body.name).toBe('form-mnist');
    const urlencoded = await t.http().post('/api/experiment/').set(auth()).type('form').send({ name: 'Urlencoded Mnist' }).expect(200);
    expect(urlencoded.body.name).toBe('urlencoded-mnist');
  });

  it('JSON bodies are parsed whatever the Content-Type (text/plain, none)', async () => {
    const plain = await t.http().post('/api/experiment/').set(auth()).set('Content-Type', 'text/plain').send('{"name": "plain-json"}').expect(200);
    expect(plain.body.name).toBe('plain-json');
    const asForm = await t.http().post('/api/experiment/').set(auth()).set('Content-Type', 'application/x-www-form-urlencoded').send('{"name":"form-typed-json"}').expect(200);
    expect(asForm.body.name).toBe('form-typed-json');
  });

  it('unknown keys, missing/empty/non-string names, bad JSON and names over 255 characters → 400 with the registration text', async () => {
    const bad: Array<[string, string | Record<string, unknown>]> = [
      ['application/json', { name: 'ok-name', experimentId: 7 }],
      ['application/json', {}],
      ['application/json', { name: '' }],
      ['application/json', { name: '   ' }],
      ['application/json', { name: 5 }],
      ['application/json', { name: ['a'] }],
      ['application/json', { name: 'x'.repeat(256) }],
      ['application/json', { name: 'a/b' }],
      ['application/json', { name: 'nul\u0000name' }],
      ['text/plain', '{"name": '],
      ['text/plain', '["name"]'],
    ];
    for (const [type, body] of bad) {
      const res = await t.http().post('/api/experiment/').set(auth()).set('Content-Type', type).send(typeof body === 'string' ? body : JSON.stringify(body));
      expect({ body, status: res.status, message: res.body.message }).toEqual({ body, status: 400, message: REGISTRATION });
    }
    const formExtra = await t.http().post('/api/experiment/').set(auth()).field('name', 'form-x').field('extra', '1').expect(400);
    expect(formExtra.body.message).toBe(REGISTRATION);
    const fileExtra = await t.http().post('/api/experiment/').set(auth()).field('name', 'form-y').attach('file', Buffer.from('x'), 'x.txt').expect(400);
    expect(fileExtra.body.message).toBe(REGISTRATION);
    // 255 characters is fine.
    await register('y'.repeat(255)).expect(200);
    // Nothing was created by the refused requests.
    const names = (await t.http().get('/api/experiment/').set(auth()).expect(200)).body.map((e: { name: string }) => e.name);
    expect(names).not.toContain('ok-name');
    expect(names).not.toContain('form-x');
    expect(names).not.toContain('form-y');
  });

  it('C-EXP-02: lookups by name are slug-insensitive', async () => {
    await register('mnist-slug').expect(200);
    await register('my-experiment').expect(200);
    await register('abc_my-experiment').expect(200);
    expect((await t.http().get('/api/experiment/name/MNIST-SLUG').set(auth()).expect(200)).body.name).toBe('mnist-slug');
    expect((await t.http().get('/api/experiment/name/My Experiment').set(auth()).expect(200)).body.name).toBe('my-experiment');
    expect((await t.http().get('/api/experiment/name/ABc_My%20Experiment').set(auth()).expect(200)).body.name).toBe('abc_my-experiment');
    const missing = await t.http().get('/api/experiment/name/nope').set(auth()).expect(404);
    expect(missing.body.message).toContain('Not Found');
    // A NUL in a path parameter is refused before any lookup (common/input-guards.ts): 400 naming it.
    expect((await t.http().get('/api/experiment/name/a%00b').set(auth()).expect(400)).body.detail).toMatch(/NUL/);
    expect((await t.http().delete('/api/experiment/name/a%00b').set(auth()).expect(400)).body.detail).toMatch(/NUL/);
  });

  it('non-integer or negative ids are no route: JSON 404 with "Not Found", on every item route', async () => {
    for (const id of ['abc', '-1', '1.5', '0x1']) {
      for (const req of [t.http().get(`/api/experiment/${id}`), t.http().put(`/api/experiment/${id}`).send({ name: 'z' }), t.http().delete(`/api/experiment/${id}`)]) {
        const res = await req.set(auth()).expect(404);
        expect(res.headers['content-type']).toMatch(/json/);
        expect(res.body.message).toContain('Not Found');
      }
    }
    expect((await t.http().get('/api/experiment/0').set(auth()).expect(404)).body.message).toBe(NOT_FOUND);
    expect((await t.http().get('/api/experiment/99999999999999999999').set(auth()).expect(404)).body.message).toBe(NOT_FOUND);
  });

  it('X-Fields trims object and list replies', async () => {
    const created = await t.http().post('/api/experiment/').set(auth()).set('X-Fields', 'name,experimentId').send({ name: 'masked' }).expect(200);
    expect(created.body).toEqual({ name: 'masked', experimentId: created.body.experimentId });
    const one = await t.http().get('/api/experiment/name/masked').set(auth()).set('X-Fields', '{name}').expect(200);
    expect(one.body).toEqual({ name: 'masked' });
    const list = await t.http().get('/api/experiment/').set(auth()).set('X-Fields', 'experimentId').expect(200);
    expect(list.body.length).toBeGreaterThan(0);
    for (const e of list.body) expect(Object.keys(e)).toEqual(['experimentId']);
    const del = await t.http().delete(`/api/experiment/${created.body.experimentId}`).set(auth()).set('X-Fields', 'status').expect(200);
    expect(del.body).toEqual({ status: 'Success' });
    const bad = await t.http().get('/api/experiment/').set(auth()).set('X-Fields', '{name').expect(400);
    expect(typeof bad.body.message).toBe('string');
  });

  it('needs a bearer token like every route (401 with the Dioptra text)', async () => {
    const res = await t.http().get('/api/experiment/').expect(401);
    expect(res.body.message).toMatch(/^The server could not verify that you are authorized/);
  });

  describe('ownership', () => {
    let alice: { id: number; token: string };
    let bob: { id: number; token: string };
    beforeAll(async () => {
      alice = await createUser(t, admin, 'alice-dx');
      bob = await createUser(t, admin, 'bob-dx');
    });

    it("anyone may register; only the owner or an admin may rename or delete; others get 403 and nothing changes", async () => {
      const { experimentId } = (await register('alice-exp', alice.token).expect(200)).body;
      const denied = await t.http().delete(`/api/experiment/${experimentId}`).set(bearer(bob.token)).expect(403);
      expect(denied.body.message).toMatch(/^Forbidden/);
      await t.http().delete('/api/experiment/name/alice-exp').set(bearer(bob.token)).expect(403);
      await t.http().put(`/api/experiment/${experimentId}`).set(bearer(bob.token)).send({ name: 'bobs' }).expect(403);
      await t.http().get(`/api/experiment/${experimentId}`).set(bearer(bob.token)).expect(200);
      await t.http().put(`/api/experiment/${experimentId}`).set(bearer(alice.token)).send({ name: 'alice-exp-2' }).expect(200);
      await t.http().put(`/api/experiment/${experimentId}`).set(auth()).send({ name: 'alice-exp-3' }).expect(200);
      expect((await t.http().delete(`/api/experiment/${experimentId}`).set(bearer(alice.token)).expect(200)).body).toEqual({ status: 'Success', id: [experimentId] });
      const other = (await register('alice-exp-4', alice.token).expect(200)).body;
      expect((await t.http().delete('/api/experiment/name/alice-exp-4').set(auth()).expect(200)).body).toEqual({ status: 'Success', name: ['alice-exp-4'] });
      await t.http().get(`/api/experiment/${other.experimentId}`).set(auth()).expect(404);
    });

    it('the Dioptra-created experiment is owned by the caller on /api/v1', async () => {
      const { experimentId } = (await register('owned-by-bob', bob.token).expect(200)).body;
      const v1 = await t.http().get(`/api/v1/experiments/${experimentId}`).set(auth()).expect(200);
      expect(v1.body.experiment.username).toBe('bob-dx');
    });
  });
});
