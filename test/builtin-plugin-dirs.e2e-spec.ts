// BUILTIN_PLUGINS_DIR as a `:`-separated list (a lab's Dioptra checkout beside Alidade's own collection), and task
// plugin rows that could break jobs: listed on both faces, importable by a job run by an in-process worker.
import { Logger } from '@nestjs/common';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { TaskPluginsService } from '../src/task-plugins/task-plugins.service';
import { lines, logsOf, submit, waitForJob } from './fixtures/runner-kit';
import { makeTarGz } from './utils/archives';
import { ADMIN_PASSWORD, bearer, login, startApp, TestApp } from './utils/harness';

const DIOPTRA_BUILTINS = join(__dirname, 'fixtures', 'dioptra-checkout', 'task-plugins', 'dioptra_builtins');
const ALIDADE_BUILTINS = join(__dirname, '..', 'task-plugins', 'dioptra_builtins');
const DIOPTRA_PACKAGES = ['artifacts', 'attacks', 'backend_configs', 'data', 'estimators', 'metrics', 'random', 'registry', 'tracking'];
const ALL = [...DIOPTRA_PACKAGES, 'alidade'].sort();

/** A workflow whose entry point imports every builtin package given, and one custom plugin. */
function importingWorkflow(): Buffer {
  const script = [
    'import importlib, sys',
    'for pkg in sys.argv[1].split(","):',
    '    m = importlib.import_module("dioptra_builtins." + pkg + ".tasks")',
    '    print(m.describe())',
    'import dioptra_builtins.alidade.job',
    'import dioptra_custom.good_plugin.helper as h',
    'print("custom", h.VALUE)',
    '',
  ].join('\n');
  return makeTarGz({
    MLproject: 'name: imports\nentry_points:\n  main:\n    parameters:\n      packages: str\n    command: python3 imports.py {packages}\n',
    'imports.py': script,
  });
}

describe('builtin task plugins from several directories', () => {
  let t: TestApp;
  let admin: string;
  let tmp: string;

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'alidade-builtin-dirs-'));
    t = await startApp({
      role: 'all',
      env: { BUILTIN_PLUGINS_DIR: `${DIOPTRA_BUILTINS}:${ALIDADE_BUILTINS}`, WORKER_QUEUES: 'main', JOB_WORKDIR: join(tmp, 'work') },
    });
    admin = await login(t, 'admin', ADMIN_PASSWORD);
    await t.http().post('/api/v1/experiments').set(bearer(admin)).send({ name: 'builtins' }).expect(201);
    await t.http().post('/api/v1/queues').set(bearer(admin)).send({ name: 'main' }).expect(201);
  });
  afterAll(async () => {
    await t?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('splits BUILTIN_PLUGINS_DIR on ":" (order kept); unset means Alidade’s own collection', () => {
    expect(t.config.builtinPluginsDirs).toEqual([DIOPTRA_BUILTINS, ALIDADE_BUILTINS]);
  });

  it('lists Dioptra’s nine packages and Alidade’s on both faces', async () => {
    const dioptra = await t.http().get('/api/taskPlugin/dioptra_builtins').set(bearer(admin)).expect(200);
    expect(dioptra.body.map((p: { taskPluginName: string }) => p.taskPluginName).sort()).toEqual(ALL);
    expect(dioptra.body.find((p: { taskPluginName: string }) => p.taskPluginName === 'backend_configs').modules).toEqual(['__init__.py', 'tasks.py']);
    const all = await t.http().get('/api/taskPlugin/').set(bearer(admin)).expect(200);
    expect(all.body.filter((p: { collection: string }) => p.collection === 'dioptra_builtins')).toHaveLength(ALL.length);
    const one = await t.http().get('/api/taskPlugin/dioptra_builtins/tracking').set(bearer(admin)).expect(200);
    expect(one.body).toMatchObject({ taskPluginName: 'tracking', collection: 'dioptra_builtins' });

    const v1 = await t.http().get('/api/v1/task-plugins?collection=dioptra_builtins').set(bearer(admin)).expect(200);
    expect(v1.body.taskPlugins.map((p: { name: string }) => p.name).sort()).toEqual(ALL);
    const source = await t.http().get('/api/v1/task-plugins/dioptra_builtins/random/files/tasks.py').set(bearer(admin)).expect(200);
    expect(source.text).toContain('PACKAGE = "random"');
  });

  it('lets a job import dioptra_builtins.<package>.<module> from both directories, and skips bad rows already in the database', async () => {
    const custom = await t
      .http()
      .post('/api/v1/task-plugins')
      .set(bearer(admin))
      .field('name', 'good_plugin')
      .attach('file', makeTarGz({ 'good_plugin/__init__.py': '', 'good_plugin/helper.py': 'VALUE = 42\n' }), 'p.tar.gz')
      .expect(201);
    expect(custom.body.taskPlugin.name).toBe('good_plugin');
    // Rows that no upload can make any more (names from before the identifier rule, or written by hand).
    const pg = new Client({ connectionString: t.databaseUrl });
    await pg.connect();
    try {
      for (const name of ['bad-name', 'with space', 'class', '__init__', '../escape']) {
        const { rows } = await pg.query(`INSERT INTO task_plugin (collection, name, owner_id) VALUES ('dioptra_custom', $1, NULL) RETURNING id`, [name]);
        await pg.query(`INSERT INTO task_plugin_file (plugin_id, filename, content) VALUES ($1, 'm.py', $2)`, [rows[0].id, Buffer.from('raise SystemExit(9)\n')]);
      }
      const { rows } = await pg.query(`SELECT id FROM task_plugin WHERE collection = 'dioptra_custom' AND name = 'good_plugin'`);
      await pg.query(`INSERT INTO task_plugin_file (plugin_id, filename, content) VALUES ($1, 'not-a-module.py', $2)`, [rows[0].id, Buffer.from('x = 1\n')]);
    } finally {
      await pg.end();
    }

    const warn = jest.spyOn(Logger.prototype, 'warn');
    try {
      const job = await submit(t, admin, { experimentName: 'builtins', queue: 'main', entryPoint: 'main', parameters: { packages: DIOPTRA_PACKAGES.join(',') } }, importingWorkflow());
      const done = await waitForJob(t, admin, job.id);
      const logs = await logsOf(t, admin, job.id);
      expect({ status: done.status, failureReason: done.failureReason, stderr: lines(logs, 'stderr') }).toEqual({ status: 'finished', failureReason: null, stderr: [] });
      expect(lines(logs, 'stdout')).toEqual([...DIOPTRA_PACKAGES.map((p) => `dioptra_builtins.${p}.tasks`), 'custom 42']);
      const warnings = warn.mock.calls.map((c) => String(c[0]));
      for (const name of ['bad-name', 'with space', 'class', '__init__', '../escape']) {
        expect(warnings).toEqual(expect.arrayContaining([expect.stringContaining(`dioptra_custom/${name}`)]));
      }
      expect(warnings).toEqual(expect.arrayContaining([expect.stringContaining('not-a-module.py')]));
    } finally {
      warn.mockRestore();
    }
  });

  it('merges in order: a package name seen twice is taken from the first directory, with a warning', async () => {
    const first = join(tmp, 'first');
    mkdirSync(join(first, 'tracking'), { recursive: true });
    writeFileSync(join(first, 'tracking', 'tasks.py'), 'PACKAGE = "first"\n');
    mkdirSync(join(first, 'bad-package'), { recursive: true });
    writeFileSync(join(first, 'bad-package', 'x.py'), '');
    const warn = jest.spyOn(Logger.prototype, 'warn');
    const service = t.app.get(TaskPluginsService);
    try {
      await service.loadBuiltins([first, DIOPTRA_BUILTINS, join(tmp, 'missing')]);
      const warnings = warn.mock.calls.map((c) => String(c[0]));
      expect(warnings).toEqual(
        expect.arrayContaining([
          expect.stringMatching(new RegExp(`package 'tracking' of ${DIOPTRA_BUILTINS} ignored: ${first} has one`)),
          expect.stringContaining("'bad-package' is not a Python identifier"),
          expect.stringContaining(`cannot read ${join(tmp, 'missing')}`),
        ]),
      );
      const source = await t.http().get('/api/v1/task-plugins/dioptra_builtins/tracking/files/tasks.py').set(bearer(admin)).expect(200);
      expect(source.text).toBe('PACKAGE = "first"\n');
      const names = (await t.http().get('/api/v1/task-plugins?collection=dioptra_builtins').set(bearer(admin)).expect(200)).body.taskPlugins.map((p: { name: string }) => p.name);
      expect(names.sort()).toEqual(DIOPTRA_PACKAGES);
    } finally {
      warn.mockRestore();
      await service.loadBuiltins(t.config.builtinPluginsDirs);
    }
  });
});
