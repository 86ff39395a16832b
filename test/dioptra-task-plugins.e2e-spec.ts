// The Dioptra face of task plugins (reference/dioptra-v0-api.md §2.5, TP-01..09 and the §8.3 cases), through HTTP.
import { randomBytes } from 'node:crypto';
import { makeTarGz, makeZip } from './utils/archives';
import { ADMIN_PASSWORD, bearer, createUser, login, startApp, TestApp } from './utils/harness';

const UPLOAD_ERROR = 'Bad Request - The task plugin upload form contains invalid parameters. Please verify and resubmit.';
const ALREADY_EXISTS =
  'Bad Request - The names of one or more of the uploaded task plugin packages conflicts with an existing package in the collection. To update an existing task plugin package, delete it first and then resubmit.';
const NOT_FOUND = 'Not Found - The requested task plugin package does not exist';
const BUILTIN_ALIDADE = { taskPluginName: 'alidade', collection: 'dioptra_builtins', modules: ['__init__.py', 'artifacts.py', 'job.py'] };

// Small limits so the oversize and too-many-entries cases stay cheap.
const MAX_PLUGIN_BYTES = 64 * 1024;
const MAX_ARCHIVE_ENTRIES = 50;

describe('Dioptra task plugins (/api/taskPlugin/)', () => {
  let t: TestApp;
  let admin: string;
  let alice: string;
  let bob: string;

  beforeAll(async () => {
    t = await startApp({ env: { MAX_PLUGIN_BYTES: String(MAX_PLUGIN_BYTES), MAX_ARCHIVE_ENTRIES: String(MAX_ARCHIVE_ENTRIES) } });
    admin = await login(t, 'admin', ADMIN_PASSWORD);
    alice = (await createUser(t, admin, 'alice')).token;
    bob = (await createUser(t, admin, 'bob')).token;
  });
  afterAll(() => t.close());

  /** Dioptra's client: multipart task_plugin_name, collection, file task_plugin_file. */
  const upload = (token: string, name: string | null, archive: Buffer | null, opts: { filename?: string; collection?: string | null } = {}) => {
    const req = t.http().post('/api/taskPlugin/').set(bearer(token));
    if (name !== null) req.field('task_plugin_name', name);
    if (opts.collection !== null) req.field('collection', opts.collection ?? 'dioptra_custom');
    if (archive !== null) req.attach('task_plugin_file', archive, opts.filename ?? 'task_plugin_new_package.tar.gz');
    return req;
  };
  const getCustom = (name: string) => t.http().get(`/api/taskPlugin/dioptra_custom/${encodeURIComponent(name)}`).set(bearer(admin));
  const customNames = async () => (await t.http().get('/api/taskPlugin/dioptra_custom').set(bearer(admin)).expect(200)).body.map((p: { taskPluginName: string }) => p.taskPluginName);

  describe('builtins', () => {
    it('a fresh server lists the shipped builtin collection (T3) and each package (T4)', async () => {
      const list = await t.http().get('/api/taskPlugin/dioptra_builtins').set(bearer(alice)).expect(200);
      expect(list.body).toContainEqual(BUILTIN_ALIDADE);
      for (const p of list.body) expect(Object.keys(p).sort()).toEqual(['collection', 'modules', 'taskPluginName']);
      const one = await t.http().get('/api/taskPlugin/dioptra_builtins/alidade').set(bearer(alice)).expect(200);
      expect(one.body).toEqual(BUILTIN_ALIDADE);
    });

    it('TP-07: a missing package is 404 TaskPluginDoesNotExistError in either collection', async () => {
      for (const path of ['/api/taskPlugin/dioptra_builtins/nope', '/api/taskPlugin/dioptra_custom/nope']) {
        const res = await t.http().get(path).set(bearer(alice)).expect(404);
        expect(res.body).toEqual({ message: NOT_FOUND });
      }
    });

    it('§8.3: uploading into dioptra_builtins is 400 TaskPluginUploadError and stores nothing', async () => {
      const res = await upload(alice, 'sneaky', makeTarGz({ 'sneaky/__init__.py': '' }), { collection: 'dioptra_builtins' }).expect(400);
      expect(res.body.message).toBe(UPLOAD_ERROR);
      await t.http().get('/api/taskPlugin/dioptra_builtins/sneaky').set(bearer(admin)).expect(404);
      expect(await customNames()).not.toContain('sneaky');
    });

    it('builtins cannot be deleted: the route only exists under dioptra_custom (405)', async () => {
      await t.http().delete('/api/taskPlugin/dioptra_builtins/alidade').set(bearer(admin)).expect(405);
      await t.http().get('/api/taskPlugin/dioptra_builtins/alidade').set(bearer(admin)).expect(200);
    });
  });

  describe('upload (T2), get (T6), list (T1/T5), delete (T7)', () => {
    it('TP-02/TP-03: stores the package flattened under the form name and answers the TaskPlugin', async () => {
      const archive = makeTarGz({ 'new_plugin_module/__init__.py': '', 'new_plugin_module/plugin_module.py': 'def f():\n    return 1\n' });
      const res = await upload(alice, 'new_package', archive).expect(200);
      expect(res.body).toEqual({ taskPluginName: 'new_package', collection: 'dioptra_custom', modules: ['__init__.py', 'plugin_module.py'] });
      expect((await getCustom('new_package').expect(200)).body).toEqual(res.body);
    });

    it('TP-04: uploading an existing name is 400 TaskPluginAlreadyExistsError and keeps the original', async () => {
      const res = await upload(bob, 'new_package', makeTarGz({ 'other.py': 'x = 1\n' })).expect(400);
      expect(res.body).toEqual({ message: ALREADY_EXISTS });
      expect((await getCustom('new_package')).body.modules).toEqual(['__init__.py', 'plugin_module.py']);
    });

    it('TP-06: only .py files are stored (data.json and README are dropped)', async () => {
      const archive = makeTarGz({ 'pkg/__init__.py': '', 'pkg/data.json': '{}', 'pkg/README': 'hi', 'pkg/mod.py': 'y = 2\n' });
      const res = await upload(alice, 'py_only', archive).expect(200);
      expect(res.body.modules).toEqual(['__init__.py', 'mod.py']);
    });

    it('TP-09: nested directories are flattened to basenames; a later file with the same basename wins', async () => {
      const archive = makeTarGz({ 'dir/subdir/deep.py': 'a = 1\n', 'top/same.py': 'first = True\n', 'other/same.py': 'second = True\n' });
      const res = await upload(alice, 'flattened', archive).expect(200);
      expect(res.body.modules).toEqual(['deep.py', 'same.py']);
      const src = await t.http().get('/api/v1/task-plugins/dioptra_custom/flattened/files/same.py').set(bearer(alice)).expect(200);
      expect(src.text).toBe('second = True\n');
    });

    it("TP-09: a member with a '..' step or an absolute path is stored flattened to its basename", async () => {
      const res = await upload(alice, 'dotdot', makeTarGz({ '../evil.py': 'evil = 1\n', '/abs/root.py': 'root = 1\n', 'ok.py': 'ok = 1\n' })).expect(200);
      expect(res.body).toEqual({ taskPluginName: 'dotdot', collection: 'dioptra_custom', modules: ['evil.py', 'ok.py', 'root.py'] });
      const src = await t.http().get('/api/v1/task-plugins/dioptra_custom/dotdot/files/evil.py').set(bearer(alice)).expect(200);
      expect(src.text).toBe('evil = 1\n');
    });

    it('accepts a zip archive and a plain (uncompressed) tar, whatever the suffix says', async () => {
      const zip = await upload(alice, 'zipped', makeZip({ 'zipped/__init__.py': '', 'zipped/z.py': 'z = 1\n' }), { filename: 'plugins.zip' }).expect(200);
      expect(zip.body.modules).toEqual(['__init__.py', 'z.py']);
      const tar = await upload(alice, 'plain_tar', makeTarGz({ 't.py': 't = 1\n' }, { gzip: false }), { filename: 'plugins.TAR' }).expect(200);
      expect(tar.body.modules).toEqual(['t.py']);
    });

    it('an archive without .py files answers modules [] and stores nothing (a later GET is 404)', async () => {
      const res = await upload(alice, 'no_python', makeTarGz({ 'notes.txt': 'nothing here' })).expect(200);
      expect(res.body).toEqual({ taskPluginName: 'no_python', collection: 'dioptra_custom', modules: [] });
      await getCustom('no_python').expect(404);
    });

    it('accepts the camelCase spellings taskPluginName / taskPluginFile', async () => {
      const res = await t
        .http()
        .post('/api/taskPlugin/')
        .set(bearer(alice))
        .field('taskPluginName', 'camel')
        .field('collection', 'dioptra_custom')
        .attach('taskPluginFile', makeTarGz({ 'c.py': 'c = 1\n' }), 'camel.tgz')
        .expect(200);
      expect(res.body).toEqual({ taskPluginName: 'camel', collection: 'dioptra_custom', modules: ['c.py'] });
    });

    it('T1: builtins first, then custom, each in name order; with or without the trailing slash', async () => {
      const slash = await t.http().get('/api/taskPlugin/').set(bearer(alice)).expect(200);
      const bare = await t.http().get('/api/taskPlugin').set(bearer(alice)).expect(200);
      expect(bare.body).toEqual(slash.body);
      const collections = slash.body.map((p: { collection: string }) => p.collection);
      const firstCustom = collections.indexOf('dioptra_custom');
      expect(firstCustom).toBeGreaterThan(0);
      expect(collections.slice(firstCustom).every((c: string) => c === 'dioptra_custom')).toBe(true);
      const custom = slash.body.slice(firstCustom).map((p: { taskPluginName: string }) => p.taskPluginName);
      expect(custom).toEqual([...custom].sort());
      expect(custom).toEqual(expect.arrayContaining(['camel', 'flattened', 'new_package', 'py_only', 'zipped']));
      expect(slash.body).toContainEqual(BUILTIN_ALIDADE);
    });

    it('TP-05: DELETE removes the package and answers the TaskPluginDeleteStatus; a second DELETE answers []', async () => {
      await upload(alice, 'new_plugin_one', makeTarGz({ 'a.py': '' })).expect(200);
      const res = await t.http().delete('/api/taskPlugin/dioptra_custom/new_plugin_one').set(bearer(alice)).expect(200);
      expect(res.body).toEqual({ status: 'Success', collection: 'dioptra_custom', taskPluginName: ['new_plugin_one'] });
      await getCustom('new_plugin_one').expect(404);
      const again = await t.http().delete('/api/taskPlugin/dioptra_custom/new_plugin_one').set(bearer(alice)).expect(200);
      expect(again.body).toEqual({ status: 'Success', collection: 'dioptra_custom', taskPluginName: [] });
    });

    it('deleting a name does not touch packages whose names merely start with it', async () => {
      await upload(alice, 'foo', makeTarGz({ 'a.py': '' })).expect(200);
      await upload(alice, 'foo_bar', makeTarGz({ 'b.py': '' })).expect(200);
      await t.http().delete('/api/taskPlugin/dioptra_custom/foo').set(bearer(alice)).expect(200);
      await getCustom('foo_bar').expect(200);
    });

    it("another user may not delete someone's package (403); an admin may", async () => {
      await upload(alice, 'alices', makeTarGz({ 'a.py': '' })).expect(200);
      const denied = await t.http().delete('/api/taskPlugin/dioptra_custom/alices').set(bearer(bob)).expect(403);
      expect(denied.body.message).toMatch(/^Forbidden/);
      await getCustom('alices').expect(200);
      const res = await t.http().delete('/api/taskPlugin/dioptra_custom/alices').set(bearer(admin)).expect(200);
      expect(res.body.taskPluginName).toEqual(['alices']);
    });

    it('names are Python identifiers (jobs import dioptra_custom.<name>.<module>), up to 255 bytes', async () => {
      const name = `_My_plugin_2${'x'.repeat(243)}`;
      await upload(alice, name, makeTarGz({ 'm.py': '', '__init__.py': '' })).expect(200);
      expect((await getCustom(name).expect(200)).body.taskPluginName).toBe(name);
    });

    it('needs a token like every route', async () => {
      await t.http().get('/api/taskPlugin/').expect(401);
      await t.http().post('/api/taskPlugin/').field('task_plugin_name', 'x').expect(401);
    });
  });

  describe('invalid uploads are 400 TaskPluginUploadError and store nothing', () => {
    const tgz = () => makeTarGz({ 'p.py': 'p = 1\n' });
    const cases: Array<[string, () => ReturnType<typeof upload>]> = [
      ['§8.3: a .txt file name', () => upload(alice, 'bad_txt', tgz(), { filename: 'plugin.txt' })],
      ['a file name without suffix', () => upload(alice, 'bad_nosuffix', tgz(), { filename: 'plugin' })],
      ['a missing name', () => upload(alice, null, tgz())],
      ['an empty name', () => upload(alice, '', tgz())],
      ['a name that is too long', () => upload(alice, 'n'.repeat(256), tgz())],
      ["the name '..'", () => upload(alice, '..', tgz())],
      ['a name with a space', () => upload(alice, 'my plugin', tgz())],
      ['a hyphenated name', () => upload(alice, 'my-plugin', tgz())],
      ['a non-ASCII name', () => upload(alice, 'plugin_ü', tgz())],
      ['a Python keyword as name', () => upload(alice, 'lambda', tgz())],
      ['the name __init__', () => upload(alice, '__init__', tgz())],
      ['a module file that is not an identifier', () => upload(alice, 'bad_module', makeTarGz({ 'p.py': '', 'sub/my-mod.py': '' }))],
      ['a missing collection', () => upload(alice, 'bad_nocoll', tgz(), { collection: null })],
      ['an unknown collection', () => upload(alice, 'bad_coll', tgz(), { collection: 'dioptra_other' })],
      ['a missing file', () => upload(alice, 'bad_nofile', null)],
      ['content that is not an archive', () => upload(alice, 'bad_content', Buffer.from('just text, not a tarball'))],
      ['a truncated tar.gz', () => upload(alice, 'bad_truncated', tgz().subarray(0, 40))],
      ['a bz2 archive (suffix allowed, format not supported)', () => upload(alice, 'bad_bz2', Buffer.from('BZh91AY&SY' + 'x'.repeat(100)), { filename: 'p.tar.bz2' })],
      ['a file in an unexpected field', () => t.http().post('/api/taskPlugin/').set(bearer(alice)).field('task_plugin_name', 'bad_field').field('collection', 'dioptra_custom').attach('workflow', tgz(), 'p.tar.gz')],
      ['two files', () => upload(alice, 'bad_two', tgz()).attach('taskPluginFile', tgz(), 'q.tar.gz')],
      ['a JSON body', () => t.http().post('/api/taskPlugin/').set(bearer(alice)).send({ task_plugin_name: 'bad_json', collection: 'dioptra_custom' })],
      ['a compression bomb (expands past 10 × MAX_PLUGIN_BYTES)', () => upload(alice, 'bad_bomb', makeTarGz({ 'bomb.py': Buffer.alloc(12 * MAX_PLUGIN_BYTES, 0x20) }))],
      [`more than MAX_ARCHIVE_ENTRIES (${MAX_ARCHIVE_ENTRIES}) entries`, () => upload(alice, 'bad_entries', makeTarGz(Object.fromEntries(Array.from({ length: MAX_ARCHIVE_ENTRIES + 1 }, (_, i) => [`m${i}.py`, ''])))) ],
    ];
    it.each(cases)('%s', async (_label, send) => {
      const before = await customNames();
      const res = await send().expect(400);
      expect(res.body.message).toBe(UPLOAD_ERROR);
      expect(typeof res.body.detail).toBe('string');
      expect(await customNames()).toEqual(before);
    });

    it('a malformed multipart body is a 400, not a 500', async () => {
      const res = await t
        .http()
        .post('/api/taskPlugin/')
        .set(bearer(alice))
        .set('Content-Type', 'multipart/form-data; boundary=XYZ')
        .send('--XYZ\r\nContent-Disposition: form-data; name="task_plugin_name"\r\n\r\nbroken\r\n--XYZ\r\nContent-Disp');
      expect(res.status).toBe(400);
      expect(res.body.message).toBe(UPLOAD_ERROR);
    });
  });

  it('an archive over MAX_PLUGIN_BYTES is 413 and stores nothing', async () => {
    const big = makeTarGz({ 'big.py': `# ${randomBytes(2 * MAX_PLUGIN_BYTES).toString('base64')}\n` });
    expect(big.length).toBeGreaterThan(MAX_PLUGIN_BYTES);
    const res = await upload(alice, 'too_big', big).expect(413);
    expect(res.body.message).toMatch(/^Request Entity Too Large/);
    await getCustom('too_big').expect(404);
  });

  it("replays examples/scripts/register_task_plugins.py: GET; on 'Not Found' upload then GET; with --force DELETE then upload", async () => {
    const register = async (name: string, archive: Buffer, force: boolean) => {
      const found = (await t.http().get(`/api/taskPlugin/dioptra_custom/${name}`).set(bearer(alice))).body;
      if (found?.message && String(found.message).includes('Not Found')) {
        await upload(alice, name, archive, { filename: `custom-plugins-${name}.tar.gz` });
        const again = (await t.http().get(`/api/taskPlugin/dioptra_custom/${name}`).set(bearer(alice))).body;
        expect(again.message).toBeUndefined();
        return again;
      }
      if (force) {
        const deleted = (await t.http().delete(`/api/taskPlugin/dioptra_custom/${name}`).set(bearer(alice))).body;
        expect(String(deleted.status)).toContain('Success');
        return (await upload(alice, name, archive, { filename: `custom-plugins-${name}.tar.gz` })).body;
      }
      return found;
    };
    const v1 = makeTarGz({ '__init__.py': '', 'evaluation.py': 'VERSION = 1\n' });
    const v2 = makeTarGz({ '__init__.py': '', 'evaluation.py': 'VERSION = 2\n', 'metrics.py': '' });
    expect(await register('evaluation', v1, false)).toEqual({ taskPluginName: 'evaluation', collection: 'dioptra_custom', modules: ['__init__.py', 'evaluation.py'] });
    expect((await register('evaluation', v2, false)).modules).toEqual(['__init__.py', 'evaluation.py']); // exists, no --force: left alone
    expect((await register('evaluation', v2, true)).modules).toEqual(['__init__.py', 'evaluation.py', 'metrics.py']);
    const src = await t.http().get('/api/v1/task-plugins/dioptra_custom/evaluation/files/evaluation.py').set(bearer(alice)).expect(200);
    expect(src.text).toBe('VERSION = 2\n');
  });
});
