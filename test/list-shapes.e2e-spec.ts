// Every v1 list keeps the shape of its items under every sortBy × orderBy. The lists and their sort keys are read
// from the committed openapi.json (the schema test keeps it equal to the code), so a new list or sort key is
// covered without touching this file.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { makeTarGz } from './utils/archives';
import { ADMIN_PASSWORD, bearer, createUser, login, startApp, TestApp } from './utils/harness';
import { createExperimentAndQueue, workflowTarGz } from './utils/jobs-fixtures';

interface Param {
  name: string;
  in: string;
  schema?: { enum?: string[] };
}
const spec = JSON.parse(readFileSync(join(__dirname, '..', 'openapi.json'), 'utf8')) as { paths: Record<string, { get?: { parameters?: Param[] } }> };
const lists = Object.entries(spec.paths)
  .filter(([path, ops]) => path.startsWith('/api/v1/') && ops.get?.parameters?.some((p) => p.in === 'query' && p.name === 'orderBy'))
  .map(([path, ops]) => ({ path, sortBy: ops.get!.parameters!.find((p) => p.in === 'query' && p.name === 'sortBy')?.schema?.enum ?? [] }));

/** The one array-valued property of a list reply (`experiments`, `jobs`, …). */
function items(body: Record<string, unknown>): Array<Record<string, unknown>> {
  const arrays = Object.values(body).filter(Array.isArray);
  if (arrays.length !== 1) throw new Error(`expected one array in ${JSON.stringify(body).slice(0, 200)}`);
  return arrays[0] as Array<Record<string, unknown>>;
}
const keysOf = (list: Array<Record<string, unknown>>) => list.map((item) => Object.keys(item).sort());

describe('v1 lists keep their item shape under every sort', () => {
  let t: TestApp;
  let admin: string;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    t = await startApp();
    admin = await login(t, 'admin', ADMIN_PASSWORD);
    const alice = await createUser(t, admin, 'alice');
    await createUser(t, admin, 'bob');
    const { experimentId } = await createExperimentAndQueue(t, admin);
    await createExperimentAndQueue(t, admin, 'second', 'second_q');
    for (const description of ['one', 'two']) await t.http().post('/api/v1/tokens').set(bearer(admin)).send({ description }).expect(201);
    await t
      .http()
      .post('/api/v1/task-plugins')
      .set(bearer(alice.token))
      .field('name', 'shapes')
      .attach('file', makeTarGz({ 'shapes/__init__.py': '', 'shapes/a.py': 'A = 1\n' }), 'p.tar.gz')
      .expect(201);
    const submit = () =>
      t.http().post('/api/v1/jobs').set(bearer(admin)).field('experimentName', 'mnist').field('queue', 'tensorflow_cpu').field('entryPoint', 'main').attach('workflow', workflowTarGz(), 'w.tar.gz').expect(201);
    const first = (await submit()).body.job.id as string;
    await submit();
    // Two log lines (no worker runs here), so the logs list has items to compare.
    const pg = new Client({ connectionString: t.databaseUrl });
    await pg.connect();
    await pg.query(`INSERT INTO job_log (job_id, stream, line, time) VALUES ($1, 'stdout', 'a', now()), ($1, 'stderr', 'b', now())`, [first]);
    await pg.end();
    ids.experiment = String(experimentId);
    ids.job = first;
  });
  afterAll(() => t.close());

  it('finds the lists in the spec, with their sort keys', () => {
    const paths = lists.map((l) => l.path);
    for (const p of ['/api/v1/experiments', '/api/v1/queues', '/api/v1/jobs', '/api/v1/task-plugins', '/api/v1/users', '/api/v1/tokens', '/api/v1/experiments/{id}/jobs', '/api/v1/jobs/{id}/logs']) {
      expect(paths).toContain(p);
    }
    expect(lists.find((l) => l.path === '/api/v1/experiments')!.sortBy).toContain('name');
  });

  const cases = lists.flatMap(({ path, sortBy }) =>
    [undefined, ...sortBy].flatMap((key) => (['asc', 'desc'] as const).map((orderBy) => [path, key ?? '(none)', orderBy] as [string, string, 'asc' | 'desc'])),
  );
  it.each(cases)('%s sortBy=%s orderBy=%s', async (path, sortBy, orderBy) => {
    const url = path.replace('/experiments/{id}', `/experiments/${ids.experiment}`).replace('/jobs/{id}', `/jobs/${ids.job}`);
    const unsorted = await t.http().get(url).set(bearer(admin));
    expect(unsorted.status).toBe(200);
    const base = keysOf(items(unsorted.body));
    expect(base.length).toBeGreaterThanOrEqual(2);
    // Every item of a list has one shape.
    expect(new Set(base.map((k) => k.join()))).toEqual(new Set([base[0].join()]));

    const res = await t
      .http()
      .get(url)
      .query({ orderBy, ...(sortBy === '(none)' ? {} : { sortBy }) })
      .set(bearer(admin));
    expect(res.status).toBe(200);
    const sorted = keysOf(items(res.body));
    expect(sorted).toHaveLength(base.length);
    for (const k of sorted) expect(k).toEqual(base[0]);
    // Nothing is lost but the order: the same values, item by item, once both are put in one order.
    const canon = (list: Array<Record<string, unknown>>) => list.map((i) => JSON.stringify(i, Object.keys(i).sort())).sort();
    expect(canon(items(res.body))).toEqual(canon(items(unsorted.body)));
  });
});
