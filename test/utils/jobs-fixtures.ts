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
