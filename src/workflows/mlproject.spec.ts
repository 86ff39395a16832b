import { execFileSync } from 'node:child_process';
import type { ArchiveEntry } from './archive';
import { findMLproject, parseMLproject, resolveEntryPoint, type MLProject } from './mlproject';
import { EntryPointNotFoundError, ParameterInvalidError, WorkflowInvalidError } from './workflow.errors';

// The example of dioptra-v0-api.md §6, verbatim.
const TOY = `name: toy-classifier

entry_points:
  train:
    parameters:
      dataset_dir: { type: path, default: "/dioptra/data/toy" }
      epochs: { type: float, default: 5 }
      model_label: { type: string, default: "toy_net" }
    command: >
      python train_toy.py
      --dataset-dir {dataset_dir}
      --epochs {epochs}
      --model-label {model_label}

  evaluate:
    parameters:
      run_id: string            # required: no default
      batch: { type: float, default: 64 }
    command: >
      python evaluate_toy.py --run-id {run_id} --batch {batch}
`;

const NO_FILES: ReadonlySet<string> = new Set();

function project(yaml: string): MLProject {
  return parseMLproject(yaml);
}

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

/** What bash makes of the words of `command` after `printf`: proves quoting, not just the quoted text. */
function bashWords(args: string): string[] {
  const out = execFileSync('bash', ['-c', `printf '%s\\0' ${args}`]).toString();
  return out.split('\0').slice(0, -1);
}

describe('findMLproject', () => {
  const entry = (path: string, type: ArchiveEntry['type'] = 'file'): ArchiveEntry => ({ path, type, size: 1 });

  it('finds the single regular file named exactly MLproject, at any depth', () => {
    expect(findMLproject([entry('proj', 'directory'), entry('proj/MLproject'), entry('proj/mlproject'), entry('MLproject.bak')])).toBe('proj/MLproject');
    expect(findMLproject([entry('MLproject')])).toBe('MLproject');
  });

  it('refuses none (links and directories do not count) or more than one', () => {
    const none = thrown(() => findMLproject([entry('a.py'), { path: 'MLproject', type: 'symlink', size: 0, linkTarget: 'x' }]));
    expect(none).toBeInstanceOf(WorkflowInvalidError);
    expect(none.message).toBe('workflow has no MLproject file');
    const two = thrown(() => findMLproject([entry('a/MLproject'), entry('b/MLproject')]));
    expect(two).toBeInstanceOf(WorkflowInvalidError);
    expect(two.message).toContain('a/MLproject, b/MLproject');
  });
});

describe('parseMLproject', () => {
  it('parses the §6 example: short, block and bare-type parameter specs', () => {
    const p = project(TOY);
    expect(p.name).toBe('toy-classifier');
    expect(Object.keys(p.entryPoints)).toEqual(['train', 'evaluate']);
    expect(p.entryPoints.train.parameters).toEqual({
      dataset_dir: { type: 'path', default: '/dioptra/data/toy' },
      epochs: { type: 'float', default: '5' },
      model_label: { type: 'string', default: 'toy_net' },
    });
    expect(p.entryPoints.evaluate.parameters).toEqual({ run_id: { type: 'string' }, batch: { type: 'float', default: '64' } });
    expect(p.entryPoints.evaluate.command).toBe('python evaluate_toy.py --run-id {run_id} --batch {batch}\n');
  });

  it('accepts the block form, a missing type (string), numbers as written and no parameters', () => {
    const p = project(`
entry_points:
  main:
    parameters:
      lr:
        type: float
        default: 5.0
      label:
        default: abc
      n: int
    command: python main.py
  bare:
    command: "true"
`);
    expect(p.name).toBeUndefined();
    expect(p.entryPoints.main.parameters).toEqual({ lr: { type: 'float', default: '5.0' }, label: { type: 'string', default: 'abc' }, n: { type: 'int' } });
    expect(p.entryPoints.bare).toEqual({ parameters: {}, command: 'true' });
  });

  it.each([
    ['entry_points: [unclosed', 'not valid YAML'],
    ['- just\n- a list\n', 'must be a YAML mapping'],
    ['name: x\n', "no 'entry_points'"],
    ['entry_points: [a, b]\n', "'entry_points' must be a mapping"],
    ['entry_points:\n  main: python x.py\n', "entry point 'main' must be a mapping"],
    ['entry_points:\n  main:\n    parameters: {}\n', "entry point 'main' has no 'command'"],
    ['entry_points:\n  main:\n    parameters: [a]\n    command: x\n', "'parameters' of entry point 'main' must be a mapping"],
    ['entry_points:\n  main:\n    parameters:\n      a: tensor\n    command: x\n', "parameter 'a' of entry point 'main' has unknown type 'tensor'"],
    ['entry_points:\n  main:\n    parameters:\n      a: {type: blob}\n    command: x\n', "unknown type 'blob'"],
    ['entry_points:\n  main:\n    parameters:\n      a:\n    command: x\n', "parameter 'a' of entry point 'main' must be"],
    ['entry_points:\n  main:\n    parameters:\n      a: {type: string, default: [1]}\n    command: x\n', 'non-scalar default'],
  ])('refuses %j', (yaml, mentions) => {
    const e = thrown(() => parseMLproject(yaml));
    expect(e).toBeInstanceOf(WorkflowInvalidError);
    expect(e.message).toContain(mentions);
  });
});

describe('resolveEntryPoint', () => {
  it('resolves the §6 example exactly', () => {
    const r = resolveEntryPoint(project(TOY), NO_FILES, 'evaluate', { run_id: '3f2a', batch: '32' });
    expect(r).toEqual({ command: 'python evaluate_toy.py --run-id 3f2a --batch 32', parameters: { run_id: '3f2a', batch: '32' } });
  });

  it('fills in defaults and joins the folded command', () => {
    const r = resolveEntryPoint(project(TOY), NO_FILES, 'train', {});
    expect(r.command).toBe('python train_toy.py --dataset-dir /dioptra/data/toy --epochs 5 --model-label toy_net');
    expect(r.parameters).toEqual({ dataset_dir: '/dioptra/data/toy', epochs: '5', model_label: 'toy_net' });
  });

  it('appends undeclared parameters as --name value, quoted', () => {
    const r = resolveEntryPoint(project(TOY), NO_FILES, 'evaluate', { run_id: 'r1', extra: 'two words', n: '3' });
    expect(r.command).toBe("python evaluate_toy.py --run-id r1 --batch 64 --extra 'two words' --n 3");
    expect(r.parameters).toEqual({ run_id: 'r1', batch: '64', extra: 'two words', n: '3' });
  });

  it.each(['two words', "it's", 'a"b', '$HOME', '$(touch /tmp/pwned)', '`id`', 'a;b|c&d', '*', '', 'new\nline', '\\'])(
    'quotes %j so that the shell sees exactly that one word',
    (value) => {
      const p = project('entry_points:\n  m:\n    parameters: {v: string}\n    command: printf {v}\n');
      const r = resolveEntryPoint(p, NO_FILES, 'm', { v: value, w: value });
      const args = r.command.replace(/^printf /, '');
      expect(bashWords(args)).toEqual([value, '--w', value]);
    },
  );

  it('replaces only declared placeholders; {{ }} are literal braces and other {..} stay as written', () => {
    const p = project('entry_points:\n  m:\n    parameters: {a: string}\n    command: "echo {a} ${{HOME}} ${PATH} {b}"\n');
    expect(resolveEntryPoint(p, NO_FILES, 'm', { a: 'x', b: 'y' }).command).toBe('echo x ${HOME} ${PATH} {b} --b y');
  });

  it('requires every parameter without a default', () => {
    const e = thrown(() => resolveEntryPoint(project(TOY), NO_FILES, 'evaluate', { batch: '1' }));
    expect(e).toBeInstanceOf(ParameterInvalidError);
    expect(e.message).toBe("missing required parameter 'run_id' for entry point 'evaluate'");
  });

  it.each([
    ['float', '1.5', true],
    ['float', '-2', true],
    ['float', '1e-3', true],
    ['float', '.5', true],
    ['float', 'abc', false],
    ['float', 'inf', false],
    ['float', 'NaN', false],
    ['float', '1e999', false],
    ['float', '', false],
    ['float', '0x10', false],
    ['int', '42', true],
    ['int', '-7', true],
    ['int', '1.0', false],
    ['int', 'abc', false],
    ['int', ' 1', false],
  ])('checks %s values (%j → ok: %s)', (type, value, ok) => {
    const p = project(`entry_points:\n  m:\n    parameters: {epochs: ${type}}\n    command: run {epochs}\n`);
    const run = (): unknown => resolveEntryPoint(p, NO_FILES, 'm', { epochs: value });
    if (ok) expect(run).not.toThrow();
    else {
      const e = thrown(run);
      expect(e).toBeInstanceOf(ParameterInvalidError);
      expect(e.message).toBe(`parameter 'epochs' must be ${type === 'int' ? 'an int' : 'a float'}, got '${value}'`);
    }
  });

  it('checks defaults too', () => {
    const p = project('entry_points:\n  m:\n    parameters: {n: {type: int, default: abc}}\n    command: run {n}\n');
    expect(thrown(() => resolveEntryPoint(p, NO_FILES, 'm', {}))).toBeInstanceOf(ParameterInvalidError);
  });

  it('makes relative path and uri values absolute against workDir, leaving absolute paths and remote URIs', () => {
    const p = project('entry_points:\n  m:\n    parameters: {a: path, b: uri, c: path, d: uri, e: string}\n    command: run {a} {b} {c} {d} {e}\n');
    const params = { a: 'data/x', b: './models', c: '/abs/p', d: 's3://bucket/key', e: 'rel' };
    expect(resolveEntryPoint(p, NO_FILES, 'm', params, '/work/job1').command).toBe('run /work/job1/data/x /work/job1/models /abs/p s3\\://bucket/key rel');
    expect(resolveEntryPoint(p, NO_FILES, 'm', params).command).toBe('run data/x ./models /abs/p s3\\://bucket/key rel');
  });

  it('runs an undeclared .py or .sh file of the project with all params appended', () => {
    const files = new Set(['MLproject', 'scripts/train.py', 'run me.sh', 'data.csv']);
    const p = project(TOY);
    expect(resolveEntryPoint(p, files, 'scripts/train.py', { lr: '0.1' })).toEqual({
      command: 'python scripts/train.py --lr 0.1',
      parameters: { lr: '0.1' },
    });
    expect(resolveEntryPoint(p, files, './run me.sh', {}).command).toBe("bash 'run me.sh'");
    for (const missing of ['other.py', 'data.csv', '../MLproject.py']) {
      expect(thrown(() => resolveEntryPoint(p, files, missing, {}))).toBeInstanceOf(EntryPointNotFoundError);
    }
  });

  it('names the declared entry points when the one asked for does not exist', () => {
    const e = thrown(() => resolveEntryPoint(project(TOY), NO_FILES, 'infer', {}));
    expect(e).toBeInstanceOf(EntryPointNotFoundError);
    expect(e.message).toBe("entry point 'infer' not found in MLproject; declared entry points: train, evaluate");
    expect(thrown(() => resolveEntryPoint(project(TOY), NO_FILES, 'constructor', {}))).toBeInstanceOf(EntryPointNotFoundError);
  });
});
