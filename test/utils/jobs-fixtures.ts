// Workflows and setup shared by the jobs test files (v1 and Dioptra faces).
import { makeTarGz, makeZip } from './archives';
import { bearer, TestApp } from './harness';

export const MLPROJECT = `name: fixture
entry_points:
  main:
    parameters:
      var1: {type: string, default: hello}
    command: "python main.py --var1 {var1}"
  train:
    parameters:
      epochs: int
      lr: {type: float, default: 0.1}
    command: "python train.py --epochs {epochs} --lr {lr}"
  second:
    command: "python main.py"
`;

export const WORKFLOW_FILES = {
  MLproject: MLPROJECT,
  'main.py': 'print("main")\n',
  'train.py': 'print("train")\n',
  'run.sh': 'echo run\n',
};

// Built once per test file: each build runs python3.
let tarGz: Buffer | undefined;
let zip: Buffer | undefined;
/** The standard fixture workflow (tar.gz). */
export const workflowTarGz = (): Buffer => (tarGz ??= makeTarGz(WORKFLOW_FILES));
export const workflowZip = (): Buffer => (zip ??= makeZip(WORKFLOW_FILES));

/**
 * Creates an experiment (owned by `experimentOwner`, the admin by default: only its owner or an admin may submit
 * into it) and a queue (as admin) through v1; returns their ids.
 */
export async function createExperimentAndQueue(
  t: TestApp,
  token: string,
  experiment = 'mnist',
  queue = 'tensorflow_cpu',
  experimentOwner = token,
): Promise<{ experimentId: number; queueId: number }> {
  const e = await t.http().post('/api/v1/experiments').set(bearer(experimentOwner)).send({ name: experiment });
  if (e.status !== 201) throw new Error(`create experiment: ${e.status} ${JSON.stringify(e.body)}`);
  const q = await t.http().post('/api/v1/queues').set(bearer(token)).send({ name: queue });
  if (q.status !== 201) throw new Error(`create queue: ${q.status} ${JSON.stringify(q.body)}`);
  return { experimentId: e.body.experiment.id, queueId: q.body.queue.id };
}

/**
 * In the shape of Dioptra's published example MLprojects (our own text): several entry points, `bool` and `str`
 * types beside `string`/`float`/`int`/`path`, a float whose default is `false`, YAML 1.1 numbers, and one entry
 * point with an odd parameter that must block only itself.
 */
export const DIOPTRA_SHAPED_MLPROJECT = `name: shaped-like-dioptra

entry_points:
  train:
    parameters:
      data_dir: { type: path, default: "/dioptra/data/Toy" }
      image_size: { type: string, default: "28,28,1" }
      epochs: { type: float, default: 30 }
      learning_rate: { type: float, default: 1.0e-5 }
      register_model_name: { type: string, default: "" }
      seed: { type: float, default: -1 }
    command: >
      python train.py
      --data-dir {data_dir}
      --image-size {image_size}
      --epochs {epochs}
      --learning-rate {learning_rate}
      --register-model-name {register_model_name}
      --seed {seed}

  fgm:
    parameters:
      run_id: { type: str }
      model_name: { type: str, default: "toy_le_net" }
      eps: { type: float, default: 0.3 }
      minimal: { type: float, default: false }
      targeted: { type: bool, default: False }
      max_iter: { type: int, default: 100 }
    command: >
      python fgm.py --run-id {run_id} --model-name {model_name} --eps {eps}
      --minimal {minimal} --targeted {targeted} --max-iter {max_iter}

  odd:
    parameters:
      weights: { type: float, default: [1, 2] }
    command: python odd.py --weights {weights}
`;

export const dioptraShapedTarGz = (): Buffer =>
  makeTarGz({ MLproject: DIOPTRA_SHAPED_MLPROJECT, 'train.py': 'print("train")\n', 'fgm.py': 'print("fgm")\n', 'odd.py': 'print("odd")\n' });
