import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppConfig } from '../config/config';
import { PluginFile, TaskPluginsRepository } from './task-plugins.repository';
import { isValidName, TaskPluginsService } from './task-plugins.service';
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
});

describe('task plugin names', () => {
  it.each([['a'], ['new_plugin_one'], ['with space'], ['ünïcödé'], ['x'.repeat(255)]])('accepts %j', (name) => expect(isValidName(name)).toBe(true));
  it.each([[''], ['.'], ['..'], ['a/b'], ['nul\0'], ['line\nbreak'], ['x'.repeat(256)]])('refuses %j', (name) => expect(isValidName(name)).toBe(false));
});
