import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
    expect(p.entryPointNames).toEqual(['train', 'evaluate']);
    expect(p.entryPoint('train')!.parameters).toEqual({
      dataset_dir: { type: 'path', default: '/dioptra/data/toy' },
      epochs: { type: 'float', default: '5' },
      model_label: { type: 'string', default: 'toy_net' },
    });
    expect(p.entryPoint('evaluate')!.parameters).toEqual({ run_id: { type: 'string' }, batch: { type: 'float', default: '64' } });
    expect(p.entryPoint('evaluate')!.command).toBe('python evaluate_toy.py --run-id {run_id} --batch {batch}\n');
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
    expect(p.entryPoint('main')!.parameters).toEqual({ lr: { type: 'float', default: '5.0' }, label: { type: 'string', default: 'abc' }, n: { type: 'int' } });
    expect(p.entryPoint('bare')).toEqual({ parameters: {}, command: 'true' });
    expect(p.entryPoint('nope')).toBeUndefined();
  });

  it.each([
    ['entry_points: [unclosed', 'MLproject:1: not valid YAML'],
    ['name: x\nentry_points:\n  a: 1\n b: 2\n', 'MLproject:4: not valid YAML'],
    ['- just\n- a list\n', 'MLproject: must be a YAML mapping'],
    ['entry_points: [a, b]\n', "MLproject:1: 'entry_points' must be a mapping"],
  ])('refuses the whole file for %j', (yaml, mentions) => {
    const e = thrown(() => parseMLproject(yaml));
    expect(e).toBeInstanceOf(WorkflowInvalidError);
    expect(e.message).toContain(mentions);
  });

  it.each([
    ['entry_points:\n  main: python x.py\n', "MLproject:2: entry point 'main' must be a mapping"],
    ['entry_points:\n  main:\n    parameters: {}\n', "MLproject:3: entry point 'main' has no 'command'"],
    ['entry_points:\n  main:\n    parameters: [a]\n    command: x\n', "MLproject:3: 'parameters' of entry point 'main' must be a mapping"],
    ['entry_points:\n  main:\n    parameters:\n      a:\n    command: x\n', "MLproject:4: parameter 'a' of entry point 'main' must be"],
    ['entry_points:\n  main:\n    parameters:\n      a: {type: string, default: [1]}\n    command: x\n', "MLproject:4: parameter 'a' of entry point 'main' has a non-scalar default"],
    ['entry_points:\n  main:\n    parameters:\n      a:\n        default: 2024-02-30\n    command: x\n', "MLproject:5: parameter 'a' of entry point 'main': '2024-02-30' is not a valid date"],
  ])('refuses only the odd entry point of %j, with its line', (yaml, mentions) => {
    const p = parseMLproject(`${yaml}  other:\n    command: python other.py\n`);
    const e = thrown(() => p.entryPoint('main'));
    expect(e).toBeInstanceOf(WorkflowInvalidError);
    expect(e.message).toContain(mentions);
    expect(p.entryPoint('other')).toEqual({ parameters: {}, command: 'python other.py' });
  });

  it('names the MLproject as it sits in the workflow', () => {
    const e = thrown(() => parseMLproject('entry_points:\n  main: x\n', 'src/MLproject').entryPoint('main'));
    expect(e.message).toBe("src/MLproject:2: entry point 'main' must be a mapping");
  });

  it('keeps any type (bool, str, tensor, …) and allows a project without entry_points', () => {
    const p = parseMLproject('entry_points:\n  m:\n    parameters:\n      a: bool\n      b: {type: str, default: x}\n      c: {type: tensor}\n      d: {default: 1}\n    command: run\n');
    expect(p.entryPoint('m')!.parameters).toEqual({ a: { type: 'bool' }, b: { type: 'str', default: 'x' }, c: { type: 'tensor' }, d: { type: 'string', default: '1' } });
    expect(parseMLproject('name: only-scripts\n').entryPointNames).toEqual([]);
  });
});

// In the shape of Dioptra's published examples (our own text): several entry points, `bool` and `str` types, a
// float whose default is `false`, YAML 1.1 numbers, a path default outside the project.
const DIOPTRA_SHAPED = `name: shaped-like-dioptra

entry_points:
  train:
    parameters:
      data_dir: { type: path, default: "/dioptra/data/Toy" }
      image_size: { type: string, default: "28,28,1" }
      epochs: { type: float, default: 30 }
      learning_rate: { type: float, default: 1.0e-5 }
      validation_split: { type: float, default: 0.2 }
      seed: { type: float, default: -1 }
      register_model: { type: str, default: "" }
    command: >
      python train.py --data-dir {data_dir} --image-size {image_size} --epochs {epochs}
      --learning-rate {learning_rate} --validation-split {validation_split} --seed {seed}
      --register-model {register_model}

  fgm:
    parameters:
      model_name: { type: str, default: "toy_le_net" }
      eps: { type: float, default: 0.3 }
      minimal: { type: float, default: false }
      targeted: { type: bool, default: False }
      verbose: { type: bool, default: yes }
      max_iter: { type: int, default: 100 }
    command: python fgm.py --model-name {model_name} --eps {eps} --minimal {minimal} --targeted {targeted} --verbose {verbose} --max-iter {max_iter}

  odd:
    parameters:
      weights: { type: float, default: [1, 2] }
    command: python odd.py {weights}
`;

describe('Dioptra-shaped MLproject', () => {
  it('accepts every entry point but the odd one, defaults rendered as Python str()', () => {
    const p = parseMLproject(DIOPTRA_SHAPED);
    expect(p.entryPointNames).toEqual(['train', 'fgm', 'odd']);
    expect(resolveEntryPoint(p, NO_FILES, 'fgm', {})).toEqual({
      command: 'python fgm.py --model-name toy_le_net --eps 0.3 --minimal False --targeted False --verbose True --max-iter 100',
      parameters: { model_name: 'toy_le_net', eps: '0.3', minimal: 'False', targeted: 'False', verbose: 'True', max_iter: '100' },
    });
    const train = resolveEntryPoint(p, NO_FILES, 'train', { epochs: '3' });
    expect(train.command).toBe(
      "python train.py --data-dir /dioptra/data/Toy --image-size 28\\,28\\,1 --epochs 3 --learning-rate 1e-05 --validation-split 0.2 --seed -1 --register-model ''",
    );
    expect(thrown(() => resolveEntryPoint(p, NO_FILES, 'odd', {}))).toBeInstanceOf(WorkflowInvalidError);
  });

  it('checks only given float and int values', () => {
    const p = parseMLproject(DIOPTRA_SHAPED);
    expect(thrown(() => resolveEntryPoint(p, NO_FILES, 'fgm', { minimal: 'false' })).message).toBe("parameter 'minimal' must be a float, got 'false'");
    expect(thrown(() => resolveEntryPoint(p, NO_FILES, 'fgm', { max_iter: '1.5' })).message).toBe("parameter 'max_iter' must be an int, got '1.5'");
    expect(resolveEntryPoint(p, NO_FILES, 'fgm', { targeted: 'maybe', minimal: '1' }).parameters).toMatchObject({ targeted: 'maybe', minimal: '1' });
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

  it('never checks defaults', () => {
    const p = project('entry_points:\n  m:\n    parameters: {n: {type: int, default: abc}, f: {type: float, default: false}}\n    command: run {n} {f}\n');
    expect(resolveEntryPoint(p, NO_FILES, 'm', {}).command).toBe('run abc False');
  });

  describe('path and uri, as MLflow computes them on the worker', () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'alidade-mlproject-'));
      mkdirSync(join(dir, 'data'));
      writeFileSync(join(dir, 'data', 'x y.csv'), '1\n');
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const p = () => project('entry_points:\n  m:\n    parameters: {a: path, b: uri}\n    command: run {a} {b}\n');

    it('makes an existing local path absolute against the project directory; a uri is kept as given', () => {
      const r = resolveEntryPoint(p(), NO_FILES, 'm', { a: 'data/x y.csv', b: 's3://bucket/key' }, dir);
      expect(r.parameters).toEqual({ a: join(dir, 'data', 'x y.csv'), b: 's3://bucket/key' });
      expect(resolveEntryPoint(p(), NO_FILES, 'm', { a: `file://${dir}/data`, b: 'runs:/abc/model' }, dir).parameters.a).toBe(join(dir, 'data'));
      expect(resolveEntryPoint(p(), NO_FILES, 'm', { a: 'data/x%20y.csv', b: 'x:y' }, dir).parameters.a).toBe(join(dir, 'data', 'x y.csv'));
      expect(resolveEntryPoint(p(), NO_FILES, 'm', { a: '.', b: 'file:///x' }, dir).parameters.a).toBe(dir);
    });

    it('fails a missing path, a remote path and a uri without a scheme, naming only the value given', () => {
      const missing = thrown(() => resolveEntryPoint(p(), NO_FILES, 'm', { a: 'data/none.csv', b: 's3://b/k' }, dir));
      expect(missing).toBeInstanceOf(ParameterInvalidError);
      expect(missing.message).toBe('Got value data/none.csv for parameter a, but no such file or directory was found.');
      expect(missing.message).not.toContain(dir);
      expect(thrown(() => resolveEntryPoint(p(), NO_FILES, 'm', { a: 's3://b/k', b: 's3://b/k' }, dir)).message).toMatch(/s3:\/\/b\/k is not a local path/);
      expect(thrown(() => resolveEntryPoint(p(), NO_FILES, 'm', { a: 'data', b: './models' }, dir)).message).toBe('Expected URI for parameter b but got ./models');
    });

    it('checks neither at submission (no workDir): the server cannot see the worker', () => {
      expect(resolveEntryPoint(p(), NO_FILES, 'm', { a: 'data/none.csv', b: './models' }).command).toBe('run data/none.csv ./models');
    });
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
    expect(thrown(() => resolveEntryPoint(project('name: x\n'), NO_FILES, 'main', {})).message).toBe("entry point 'main' not found in MLproject; declared entry points: (none)");
  });
});
