// The worker's side of tracking: each job's MLflow run, created at claim and closed when the job ends, and the
// credentials the job's own `mlflow` client gets. One interface, two implementations chosen by config: Alidade's own
// tracking (local) or a lab's MLflow server (external, MLFLOW_TRACKING_URI on the worker).

/** What the run of a job is made from. */
export interface JobRunSpec {
  jobId: string;
  experimentId: number;
  experimentName: string;
  ownerId: number;
  ownerName: string;
  queueName: string;
  /** ms since the epoch */
  startTime: number;
}

/** A job's run, created and RUNNING. */
export interface TrackedRun {
  /** The job's `mlflowRunId`. */
  runId: string;
  /** Where the job's `mlflow` client talks to (a sandbox without network forwards this one address). */
  trackingUri: string;
  /** MLFLOW_TRACKING_URI, MLFLOW_TRACKING_TOKEN (or _USERNAME/_PASSWORD), MLFLOW_RUN_ID, MLFLOW_EXPERIMENT_ID. */
  env: Record<string, string>;
}

/** How the worker closes a run the job left open (KILLED also overrides what the client wrote). */
export type RunEnd = 'FINISHED' | 'FAILED' | 'KILLED';

export abstract class RunTracker {
  /** Which tracker this is, for the worker's start-up line. */
  abstract readonly description: string;

  /** Creates the job's RUNNING run and the job's credentials. Throws (with a reason for the job's owner) when it cannot. */
  abstract start(spec: JobRunSpec): Promise<TrackedRun>;

  /** Closes the run if the job left it open and revokes the job's credentials. Throws when the tracking store failed. */
  abstract finish(jobId: string, runId: string, end: RunEnd): Promise<void>;
}

/** The run's name and tags, the same in both modes (reference §12). */
export function runIdentity(spec: JobRunSpec): { runName: string; tags: Record<string, string> } {
  return {
    runName: spec.jobId,
    tags: { 'mlflow.runName': spec.jobId, 'mlflow.user': spec.ownerName, 'alidade.jobId': spec.jobId, 'alidade.queue': spec.queueName },
  };
}
