import { execFileSync } from 'node:child_process';
import { parseMLproject } from './mlproject';
import { pythonFloatRepr, pythonStrOfScalar } from './yaml11';

// Scalars as they would stand after `default:` in an MLproject.
const SCALARS = [
  'false', 'False', 'FALSE', 'true', 'yes', 'No', 'on', 'OFF', 'y', 'n', 'nO',
  '~', 'null', 'Null', 'NULL', 'nil', 'None',
  '0', '10', '-3', '+7', '007', '0x1F', '-0x10', '0b101', '1_000', '08', '190:20:30', '12345678901234567890123',
  '0.1', '1.0', '5.0', '-2.50', '1.0e-5', '1.0e+17', '1.0e5', '1e-5', '1e5', '.5', '-.5', '1.', '0.00001', '0.0001',
  '100000000000000000.0', '1000000000000000.0', '10000000000000000.0', '3.14159265358979323846', '1_0.5', '190:20:30.15',
  '.inf', '-.Inf', '+.INF', '.nan', '.NaN', '0.0', '-0.0', '1.7976931348623157e+308', '5e-324', '2.5e-310',
  '2024-01-31', '2001-12-14t21:59:43.10-05:00', '2001-12-14 21:59:43.10', '2001-12-14T21:59:43Z', '2002-12-14 2:05:09 +3',
  '2001-1-2', 'abc', '28,28,1', '"quoted 5"', "'single'", '"false"', 'inf', 'NaN', '1,000', '0o17', '!!str 5', '!!float 1', '!!int "12"', 'Adam',
];

/** Python's str() of what PyYAML (MLflow's YAML reader) makes of each `default:` value. */
function pythonRenderings(values: string[]): string[] {
  const python = process.env.ALIDADE_TEST_PYTHON;
  if (!python) throw new Error('ALIDADE_TEST_PYTHON is not set: run the tests through jest (test/global-setup.mjs)');
  const script = `
import json, sys, yaml
out = []
for v in json.load(sys.stdin):
    d = yaml.safe_load("default: " + v)["default"]
    out.append(None if d is None else str(d))
print(json.dumps(out))
`;
  return JSON.parse(execFileSync(python, ['-c', script], { input: JSON.stringify(values) }).toString()) as string[];
}

function ours(value: string): string | null {
  const p = parseMLproject(`entry_points:\n  m:\n    parameters:\n      x:\n        type: string\n        default: ${value}\n    command: run {x}\n`);
  const spec = p.entryPoint('m')!.parameters.x;
  return spec.default ?? null;
}

// Our own MLproject in the shape of Dioptra's examples, quirks included: `default:0.1` with no space is, in a flow
// mapping, a key of its own (so no default: required), `type:float` likewise (so type string), `default :"x"` too.
const QUIRKY = `name: quirky
entry_points:
  attack:
    parameters:
      data_dir: { type: path, default: "/dioptra/data/Toy/testing" }
      theta: {type: float, default:0.1}
      max_iter: {type:float, default:10}
      verbose: {type: string, default:"True"}
      other_dir: { type: string, default :"/dioptra/data/Toy/training" }
      image_size: { type: string, default: "[28,28,1]" }
      minimal: { type: float, default: false }
      balance: {type: bool, default: True}
      version: { type: int, default: 1}
      kind: { type: str, default: "nn"}
      eps: {type: float, default: 1.0e-6}
      lr: {type: float, default: 0.000001}
      run_id: { type: string }
      bare: uri
    command: run
  plain:
    command: run
`;

/** MLflow's own reading (Parameter.__init__ over PyYAML): name → [type, str(default) or None]. */
function mlflowParameters(text: string): Record<string, Record<string, [string, string | null]>> {
  const script = `
import json, sys, yaml
doc = yaml.safe_load(sys.stdin.read())
out = {}
for ep, spec in doc["entry_points"].items():
    params = {}
    for name, p in (spec.get("parameters") or {}).items():
        if isinstance(p, str):
            params[name] = [p, None]
        else:
            d = p.get("default")
            params[name] = [str(p.get("type", "string")), None if d is None else str(d)]
    out[ep] = params
print(json.dumps(out))
`;
  return JSON.parse(execFileSync(process.env.ALIDADE_TEST_PYTHON!, ['-c', script], { input: text }).toString());
}

describe('YAML 1.1 scalars rendered as MLflow renders them', () => {
  it('reads every parameter of a quirky Dioptra-shaped MLproject exactly as MLflow does', () => {
    const p = parseMLproject(QUIRKY);
    const ours = Object.fromEntries(
      p.entryPointNames.map((ep) => [ep, Object.fromEntries(Object.entries(p.entryPoint(ep)!.parameters).map(([n, s]) => [n, [s.type, s.default ?? null]]))]),
    );
    expect(ours).toEqual(mlflowParameters(QUIRKY));
    expect(ours.attack.theta).toEqual(['float', null]);
    expect(ours.attack.minimal).toEqual(['float', 'False']);
  });

  it('matches PyYAML + str() on every sample', () => {
    const expected = pythonRenderings(SCALARS);
    const got = SCALARS.map(ours);
    expect(Object.fromEntries(SCALARS.map((s, i) => [s, got[i]]))).toEqual(Object.fromEntries(SCALARS.map((s, i) => [s, expected[i]])));
  });

  it('renders the examples of the brief', () => {
    expect(['false', 'true', '~', '1.0e-5', '0.1', '1.0', '10', 'hello'].map(ours)).toEqual(['False', 'True', null, '1e-05', '0.1', '1.0', '10', 'hello']);
  });

  it('repr()s floats as Python does', () => {
    expect([0.00001, 1e17, 1.0, 0.1, 1e16, 1e15, 123.456, -0.0001, 2 ** 53, 1 / 3].map(pythonFloatRepr)).toEqual([
      '1e-05', '1e+17', '1.0', '0.1', '1e+16', '1000000000000000.0', '123.456', '-0.0001', '9007199254740992.0', '0.3333333333333333',
    ]);
  });

  it('refuses what PyYAML cannot construct', () => {
    expect(() => pythonStrOfScalar('2024-02-30', { plain: true })).toThrow(/not a valid date/);
    expect(() => pythonStrOfScalar('abc', { plain: true, tag: 'tag:yaml.org,2002:int' })).toThrow(/not an int/);
  });
});
