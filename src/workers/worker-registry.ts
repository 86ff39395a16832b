// Where worker processes announce themselves in Redis, shared by the writer (runner/worker-heartbeat.ts, in the
// worker) and the reader (WorkersService, in the API). Plain data and key names only: imports nothing.

/** What a worker process says about itself at every beat. */
export interface WorkerBeat {
  /** `<hostname>:<pid>`, the job row's `worker_host` of the jobs it runs. */
  host: string;
  /** The queue names of WORKER_QUEUES, or null when it serves every queue. */
  queues: string[] | null;
  concurrency: number;
  /** Ids of the jobs it is running (status `started` with this worker_host). */
  running: string[];
  /** ISO 8601 time of this beat, by the worker's clock. */
  lastSeen: string;
}

/**
 * A worker is alive while its key lives: refreshed every WORKER_BEAT_MS, it expires WORKER_BEAT_TTL_MS after the last
 * beat. The same key lists it (GET /api/v1/workers) and tells other workers its `started` jobs are not lost.
 */
export const WORKER_BEAT_MS = 4_000;
export const WORKER_BEAT_TTL_MS = 12_000;

/** One key per worker process (its beat as JSON, with a TTL), and a set naming them so the reader never SCANs. */
export const workerKey = (prefix: string, host: string): string => `${prefix}:worker-beat:${host}`;
export const workersSetKey = (prefix: string): string => `${prefix}:worker-beats`;
