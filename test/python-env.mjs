// Python virtual environments for the tests that use the real Python clients (mlflow, Dioptra's client code):
// made once under .cache/python/<name>/ (git-ignored) with pinned packages, reused while the pins are unchanged.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '.cache', 'python');

/** The client the tests (and the jobs they run) use: the 3.11 line the MLflow reference was recorded with. */
export const MLFLOW_CLIENT = { name: 'mlflow-skinny', packages: ['mlflow-skinny==3.11.1', 'requests==2.32.5'] };
/** The last 2.x client line, to run the in-job tests with an older client too (Dioptra's workers pin older ones). */
export const MLFLOW_CLIENT_2 = { name: 'mlflow-skinny-2', packages: ['mlflow-skinny==2.22.1', 'requests==2.32.5'] };
/** A real tracking server, for external-MLflow mode and the benchmark. */
export const MLFLOW_SERVER = { name: 'mlflow-server', packages: ['mlflow==3.11.1', 'psycopg2-binary==2.9.10'] };
/** The schema-driven fuzz (`npm run test:fuzz`): schemathesis against /openapi.json of a server under test. */
export const SCHEMATHESIS = { name: 'schemathesis', packages: ['schemathesis==4.32.5'] };

function run(cmd, args) {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}):\n${(r.stderr || r.stdout || '').slice(-3000)}`);
}

/** Path of the venv's python, creating the venv (and installing its pins) when missing or stale. */
export function ensureVenv({ name, packages }) {
  const dir = join(ROOT, name);
  const python = join(dir, 'bin', 'python');
  const stamp = join(dir, '.pins');
  const pins = packages.join('\n');
  if (existsSync(python) && existsSync(stamp) && readFileSync(stamp, 'utf8') === pins) return python;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dirname(dir), { recursive: true });
  run('python3', ['-m', 'venv', dir]);
  run(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', ...packages]);
  writeFileSync(stamp, pins);
  return python;
}
