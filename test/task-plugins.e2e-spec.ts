// Task plugins on the native face (API.md §6), the builtin loader, and materializing plugins for a job.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TaskPluginsService } from '../src/task-plugins/task-plugins.service';
import { makeTarGz, makeZip } from './utils/archives';
import { ADMIN_PASSWORD, bearer, createUser, login, startApp, TestApp } from './utils/harness';

const MAX_PLUGIN_BYTES = 32 * 1024;

describe('task plugins (/api/v1/task-plugins)', () => {
  let t: TestApp;
  let admin: string;
  let alice: { id: number; token: string };
  let bob: { id: number; token: string };

  beforeAll(async () => {
    t = await startApp({ env: { MAX_PLUGIN_BYTES: String(MAX_PLUGIN_BYTES) } });
    admin = await login(t, 'admin', ADMIN_PASSWORD);
    alice = await createUser(t, admin, 'alice');
    bob = await createUser(t, admin, 'bob');
  });
  afterAll(() => t.close());

  const upload = (token: string, name: string | null, archive: Buffer | null, filename = 'plugin.tar.gz') => {
    const req = t.http().post('/api/v1/task-plugins').set(bearer(token));
    if (name !== null) req.field('name', name);
    if (archive !== null) req.attach('file', archive, filename);
    return req;
  };

  it('a fresh server lists the shipped builtins, with username null', async () => {
    const res = await t.http().get('/api/v1/task-plugins?collection=dioptra_builtins').set(bearer(alice.token)).expect(200);
    const alidade = res.body.taskPlugins.find((p: { name: string }) => p.name === 'alidade');
    expect(alidade).toEqual({ name: 'alidade', collection: 'dioptra_builtins', modules: ['__init__.py', 'artifacts.py', 'job.py'], createdAt: expect.stringMatching(/Z$/), username: null });
    expect(res.body.pagination).toMatchObject({ offset: 0, limit: 100, startIndex: 0, total: res.body.taskPlugins.length, endIndex: res.body.taskPlugins.length });
  });

  it('upload → 201 {taskPlugin}: flattened, .py only, owned by the uploader; visible on the Dioptra face', async () => {
    const archive = makeTarGz({ 'attacks/__init__.py': '', 'attacks/fgm.py': 'EPS = 0.3\n', 'attacks/notes.md': '# no' });
    const res = await upload(alice.token, 'attacks', archive).expect(201);
    expect(res.body).toEqual({
      taskPlugin: { name: 'attacks', collection: 'dioptra_custom', modules: ['__init__.py', 'fgm.py'], createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/), username: 'alice' },
    });
    const got = await t.http().get('/api/v1/task-plugins/dioptra_custom/attacks').set(bearer(bob.token)).expect(200);
    expect(got.body).toEqual(res.body);
    const dioptra = await t.http().get('/api/taskPlugin/dioptra_custom/attacks').set(bearer(bob.token)).expect(200);
    expect(dioptra.body).toEqual({ taskPluginName: 'attacks', collection: 'dioptra_custom', modules: ['__init__.py', 'fgm.py'] });
  });

  it('zip uploads work too', async () => {
    const res = await upload(alice.token, 'zipped', makeZip({ 'a/b/c.py': 'c = 3\n' }), 'zipped.zip').expect(201);
    expect(res.body.taskPlugin.modules).toEqual(['c.py']);
  });

  it('an existing name → 409 TASK_PLUGIN_ALREADY_EXISTS', async () => {
    const res = await upload(bob.token, 'attacks', makeTarGz({ 'x.py': '' })).expect(409);
    expect(res.body).toMatchObject({ statusCode: 409, code: 'TASK_PLUGIN_ALREADY_EXISTS' });
  });

  it.each([
    ['no name', () => upload(alice.token, null, makeTarGz({ 'x.py': '' })), 'VALIDATION_FAILED'],
    ['a name with a slash', () => upload(alice.token, 'a/b', makeTarGz({ 'x.py': '' })), 'TASK_PLUGIN_UPLOAD_INVALID'],
    ['no file', () => upload(alice.token, 'nofile', null), 'TASK_PLUGIN_UPLOAD_INVALID'],
    ['not an archive', () => upload(alice.token, 'notarchive', Buffer.from('hello')), 'TASK_PLUGIN_UPLOAD_INVALID'],
    ['an archive without .py files', () => upload(alice.token, 'nopy', makeTarGz({ 'a.txt': 'x' })), 'TASK_PLUGIN_UPLOAD_INVALID'],
    ['an unknown field', () => upload(alice.token, 'extra', makeTarGz({ 'x.py': '' })).field('collection2', 'x'), 'VALIDATION_FAILED'],
    ['a name with a space', () => upload(alice.token, 'my plugin', makeTarGz({ 'x.py': '' })), 'TASK_PLUGIN_UPLOAD_INVALID'],
    ['a hyphenated name', () => upload(alice.token, 'my-plugin', makeTarGz({ 'x.py': '' })), 'TASK_PLUGIN_UPLOAD_INVALID'],
    ['a non-ASCII name', () => upload(alice.token, 'ünï', makeTarGz({ 'x.py': '' })), 'TASK_PLUGIN_UPLOAD_INVALID'],
    ['a name starting with a digit', () => upload(alice.token, '1st', makeTarGz({ 'x.py': '' })), 'TASK_PLUGIN_UPLOAD_INVALID'],
    ['a Python keyword', () => upload(alice.token, 'import', makeTarGz({ 'x.py': '' })), 'TASK_PLUGIN_UPLOAD_INVALID'],
    ['the name __init__', () => upload(alice.token, '__init__', makeTarGz({ 'x.py': '' })), 'TASK_PLUGIN_UPLOAD_INVALID'],
    ['a name of 256 bytes', () => upload(alice.token, 'n'.repeat(256), makeTarGz({ 'x.py': '' })), 'TASK_PLUGIN_UPLOAD_INVALID'],
    ['a module file that is not an identifier', () => upload(alice.token, 'badmodule', makeTarGz({ 'ok.py': '', 'my-module.py': '' })), 'TASK_PLUGIN_UPLOAD_INVALID'],
    ['a module file named after a keyword', () => upload(alice.token, 'kwmodule', makeTarGz({ 'class.py': '' })), 'TASK_PLUGIN_UPLOAD_INVALID'],
  ])('%s → 400 %s, nothing stored', async (_label, send, code) => {
    const before = (await t.http().get('/api/v1/task-plugins?collection=dioptra_custom').set(bearer(admin))).body.pagination.total;
    const res = await send().expect(400);
    expect(res.body.code).toBe(code);
    expect(res.body.message).toEqual(expect.any(String));
    expect((await t.http().get('/api/v1/task-plugins?collection=dioptra_custom').set(bearer(admin))).body.pagination.total).toBe(before);
  });

  it('an archive over MAX_PLUGIN_BYTES → 413 PAYLOAD_TOO_LARGE, nothing stored', async () => {
    const big = makeTarGz({ 'big.py': randomBytes(4 * MAX_PLUGIN_BYTES) });
    const res = await upload(alice.token, 'big', big).expect(413);
    expect(res.body.code).toBe('PAYLOAD_TOO_LARGE');
    await t.http().get('/api/v1/task-plugins/dioptra_custom/big').set(bearer(alice.token)).expect(404);
  });

  it('downloads a module as text/x-python; unknown file, plugin or collection → 404', async () => {
    const res = await t.http().get('/api/v1/task-plugins/dioptra_custom/attacks/files/fgm.py').set(bearer(bob.token)).expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/x-python/);
    expect(res.text).toBe('EPS = 0.3\n');
    const builtin = await t.http().get('/api/v1/task-plugins/dioptra_builtins/alidade/files/job.py').set(bearer(bob.token)).expect(200);
    expect(builtin.text).toContain('def job_id()');
    const noFile = await t.http().get('/api/v1/task-plugins/dioptra_custom/attacks/files/notes.md').set(bearer(bob.token)).expect(404);
    expect(noFile.body.code).toBe('TASK_PLUGIN_FILE_NOT_FOUND');
    const noPlugin = await t.http().get('/api/v1/task-plugins/dioptra_custom/nope/files/fgm.py').set(bearer(bob.token)).expect(404);
    expect(noPlugin.body.code).toBe('TASK_PLUGIN_NOT_FOUND');
    await t.http().get('/api/v1/task-plugins/elsewhere/attacks').set(bearer(bob.token)).expect(404);
  });

  it('lists with pagination, the collection filter and sorting; a bad filter is 400', async () => {
    const all = await t.http().get('/api/v1/task-plugins').set(bearer(bob.token)).expect(200);
    const ids = all.body.taskPlugins.map((p: { collection: string; name: string }) => `${p.collection}/${p.name}`);
    expect(ids).toEqual(expect.arrayContaining(['dioptra_builtins/alidade', 'dioptra_custom/attacks', 'dioptra_custom/zipped']));
    const custom = await t.http().get('/api/v1/task-plugins?collection=dioptra_custom&sortBy=name&orderBy=desc').set(bearer(bob.token)).expect(200);
    expect(custom.body.taskPlugins.map((p: { name: string }) => p.name)).toEqual(['zipped', 'attacks']);
    const page = await t.http().get('/api/v1/task-plugins?collection=dioptra_custom&offset=1&limit=1').set(bearer(bob.token)).expect(200);
    expect(page.body.pagination).toEqual({ offset: 1, limit: 1, startIndex: 1, endIndex: 2, total: 2 });
    expect(page.body.taskPlugins.map((p: { name: string }) => p.name)).toEqual(['zipped']);
    const past = await t.http().get('/api/v1/task-plugins?offset=1000').set(bearer(bob.token)).expect(200);
    expect(past.body.taskPlugins).toEqual([]);
    const bad = await t.http().get('/api/v1/task-plugins?collection=nope').set(bearer(bob.token)).expect(400);
    expect(bad.body.code).toBe('VALIDATION_FAILED');
    await t.http().get('/api/v1/task-plugins?limit=1001').set(bearer(bob.token)).expect(400);
  });

  it('delete: another non-admin → 403; the owner → {}; missing → 404; an admin may delete anyone’s', async () => {
    const denied = await t.http().delete('/api/v1/task-plugins/dioptra_custom/attacks').set(bearer(bob.token)).expect(403);
    expect(denied.body.code).toBe('PERMISSION_DENIED');
    expect(await t.http().delete('/api/v1/task-plugins/dioptra_custom/attacks').set(bearer(alice.token)).expect(200).then((r) => r.body)).toEqual({});
    await t.http().get('/api/v1/task-plugins/dioptra_custom/attacks').set(bearer(alice.token)).expect(404);
    const missing = await t.http().delete('/api/v1/task-plugins/dioptra_custom/attacks').set(bearer(alice.token)).expect(404);
    expect(missing.body.code).toBe('TASK_PLUGIN_NOT_FOUND');
    await t.http().delete('/api/v1/task-plugins/dioptra_custom/zipped').set(bearer(admin)).expect(200);
    // The name is free again.
    await upload(bob.token, 'attacks', makeTarGz({ 'y.py': '' })).expect(201);
  });

  it('builtins are read-only: DELETE on dioptra_builtins is 405 and the package stays', async () => {
    await t.http().delete('/api/v1/task-plugins/dioptra_builtins/alidade').set(bearer(admin)).expect(405);
    await t.http().get('/api/v1/task-plugins/dioptra_builtins/alidade').set(bearer(admin)).expect(200);
  });

  it('needs a token', async () => {
    await t.http().get('/api/v1/task-plugins').expect(401);
    await upload('nope', 'x', makeTarGz({ 'x.py': '' })).expect(401);
  });

  describe('builtins loader', () => {
    let dir: string;
    beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'alidade-builtins-'))));
    afterAll(async () => {
      rmSync(dir, { recursive: true, force: true });
      await t.app.get(TaskPluginsService).loadBuiltins(t.config.builtinPluginsDirs);
    });

    const builtinNames = async () =>
      (await t.http().get('/api/taskPlugin/dioptra_builtins').set(bearer(admin)).expect(200)).body.map((p: { taskPluginName: string; modules: string[] }) => `${p.taskPluginName}:${p.modules.join(',')}`);

    it('replaces the builtin rows with the directory (packages = sub-directories, modules = their .py files); concurrent loads do not race', async () => {
      mkdirSync(join(dir, 'zeta'));
      writeFileSync(join(dir, 'zeta', '__init__.py'), '');
      writeFileSync(join(dir, 'zeta', 'z.py'), 'Z = 1\n');
      writeFileSync(join(dir, 'zeta', 'README.md'), 'not a module');
      mkdirSync(join(dir, 'empty'));
      mkdirSync(join(dir, '.hidden'));
      writeFileSync(join(dir, '.hidden', 'h.py'), '');
      writeFileSync(join(dir, 'loose.py'), '');
      const service = t.app.get(TaskPluginsService);
      await Promise.all([service.loadBuiltins(dir), service.loadBuiltins(dir), service.loadBuiltins(dir)]);
      expect(await builtinNames()).toEqual(['zeta:__init__.py,z.py']);
      // Custom plugins are untouched.
      await t.http().get('/api/taskPlugin/dioptra_custom/attacks').set(bearer(admin)).expect(200);
    });

    it('a missing directory leaves the builtins as they are', async () => {
      await t.app.get(TaskPluginsService).loadBuiltins(join(dir, 'does-not-exist'));
      expect(await builtinNames()).toEqual(['zeta:__init__.py,z.py']);
    });
  });

  it('materialize() writes both collections so python3 can import dioptra_custom.<pkg>.<mod> and dioptra_builtins.<pkg>.<mod>', async () => {
    await upload(alice.token, 'evaluation', makeTarGz({ 'evaluation/__init__.py': '', 'evaluation/metrics.py': 'def accuracy():\n    return 0.93\n' })).expect(201);
    const dir = mkdtempSync(join(tmpdir(), 'alidade-materialize-'));
    try {
      await t.app.get(TaskPluginsService).materialize(dir);
      const out = execFileSync(
        'python3',
        ['-c', 'from dioptra_custom.evaluation import metrics; from dioptra_builtins.alidade import job; print(metrics.accuracy(), job.job_id(), job.parameters())'],
        { env: { PATH: process.env.PATH, PYTHONPATH: dir, PYTHONDONTWRITEBYTECODE: '1', DIOPTRA_JOB_ID: 'j-1', DIOPTRA_JOB_PARAMETERS: '{"epochs": "3"}' }, encoding: 'utf8' },
      );
      expect(out.trim()).toBe("0.93 j-1 {'epochs': '3'}");
      expect(readdirSync(join(dir, 'dioptra_custom', 'evaluation')).sort()).toEqual(['__init__.py', 'metrics.py']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
