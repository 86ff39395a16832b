import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppConfig } from '../config/config';
import { PluginFile, TaskPluginsRepository } from './task-plugins.repository';
import { isModuleFileName, isPluginName, TaskPluginsService } from './task-plugins.service';
import { loadConfig } from '../config/config';

/** The PATH jobs get (read through the config module, the only reader of the environment). */
const JOB_PATH = loadConfig().jobBaseEnv.PATH;

/** A repository holding plugins in memory: materialize only reads ids and files. */
function serviceWith(plugins: Array<{ collection: 'dioptra_builtins' | 'dioptra_custom'; name: string; files: PluginFile[] }>): TaskPluginsService {
  const repo = {
    listIds: async () => plugins.map((p, i) => ({ id: i + 1, collection: p.collection, name: p.name })),
    filesOf: async (id: number) => plugins[id - 1].files,
  } as unknown as TaskPluginsRepository;
  return new TaskPluginsService(repo, new AppConfig());
}

const py = (filename: string, source: string): PluginFile => ({ filename, content: Buffer.from(source) });

describe('TaskPluginsService.materialize', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'alidade-plugins-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('lets a job with PYTHONPATH=<dir> import dioptra_custom.<pkg>.<module> and dioptra_builtins.<pkg>.<module>', async () => {
    await serviceWith([
      { collection: 'dioptra_builtins', name: 'tools', files: [py('__init__.py', ''), py('hello.py', 'def greet():\n    return "hi from builtins"\n')] },
      { collection: 'dioptra_custom', name: 'my_attacks', files: [py('fgm.py', 'EPS = 0.3\n')] }, // no __init__.py: a namespace package
    ]).materialize(dir);
    const out = execFileSync(
      'python3',
      ['-c', 'import dioptra_custom.my_attacks.fgm as f; import dioptra_builtins.tools.hello as h; print(f.EPS, h.greet())'],
      { env: { PATH: JOB_PATH, PYTHONPATH: dir, PYTHONDONTWRITEBYTECODE: '1' }, encoding: 'utf8' },
    );
    expect(out.trim()).toBe('0.3 hi from builtins');
    expect(readdirSync(dir).sort()).toEqual(['dioptra_builtins', 'dioptra_custom']);
    expect(readdirSync(join(dir, 'dioptra_custom')).sort()).toEqual(['__init__.py', 'my_attacks']);
  });

  it('makes both collections importable even when there are no plugins', async () => {
    await serviceWith([]).materialize(dir);
    execFileSync('python3', ['-c', 'import dioptra_custom, dioptra_builtins'], { env: { PATH: JOB_PATH, PYTHONPATH: dir, PYTHONDONTWRITEBYTECODE: '1' } });
  });

  it('never writes outside the directory, whatever a row says', async () => {
    await serviceWith([
      { collection: 'dioptra_custom', name: '..', files: [py('evil.py', 'x = 1\n')] },
      { collection: 'dioptra_custom', name: 'ok', files: [py('../evil.py', 'x = 1\n'), py('fine.py', 'x = 2\n')] },
    ]).materialize(dir);
    expect(readdirSync(dir).sort()).toEqual(['dioptra_builtins', 'dioptra_custom']);
    expect(readdirSync(join(dir, 'dioptra_custom')).sort()).toEqual(['__init__.py', 'ok']);
    expect(readdirSync(join(dir, 'dioptra_custom', 'ok'))).toEqual(['fine.py']);
  });

  it('skips a plugin whose stored name is not an identifier and still writes the others', async () => {
    await serviceWith([
      { collection: 'dioptra_custom', name: 'bad-name', files: [py('m.py', 'x = 1\n')] },
      { collection: 'dioptra_custom', name: 'class', files: [py('m.py', 'x = 1\n')] },
      { collection: 'dioptra_custom', name: 'good', files: [py('m.py', 'X = 7\n'), py('not-a-module.py', 'x = 1\n')] },
    ]).materialize(dir);
    expect(readdirSync(join(dir, 'dioptra_custom')).sort()).toEqual(['__init__.py', 'good']);
    expect(readdirSync(join(dir, 'dioptra_custom', 'good'))).toEqual(['m.py']);
    const out = execFileSync('python3', ['-c', 'import dioptra_custom.good.m as m; print(m.X)'], { env: { PATH: JOB_PATH, PYTHONPATH: dir, PYTHONDONTWRITEBYTECODE: '1' }, encoding: 'utf8' });
    expect(out.trim()).toBe('7');
  });
});

describe('task plugin names', () => {
  it.each([['a'], ['new_plugin_one'], ['_private'], ['A1'], ['match'], ['type'], ['__main__'], ['x'.repeat(255)]])('accepts %j as a plugin name', (name) =>
    expect(isPluginName(name)).toBe(true),
  );
  it.each([[''], ['.'], ['..'], ['a/b'], ['nul\0'], ['line\nbreak'], ['with space'], ['ünïcödé'], ['new-plugin'], ['1abc'], ['class'], ['None'], ['__init__'], ['x'.repeat(256)]])(
    'refuses %j as a plugin name',
    (name) => expect(isPluginName(name)).toBe(false),
  );
  it.each([['__init__.py'], ['fgm.py'], ['_x1.py'], [`${'x'.repeat(252)}.py`]])('accepts %j as a module file', (f) => expect(isModuleFileName(f)).toBe(true));
  it.each([['.py'], ['fgm'], ['fgm.pyc'], ['my-mod.py'], ['a b.py'], ['import.py'], ['.hidden.py'], ['../x.py'], [`${'x'.repeat(253)}.py`]])(
    'refuses %j as a module file',
    (f) => expect(isModuleFileName(f)).toBe(false),
  );
});
