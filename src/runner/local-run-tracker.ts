import { randomBytes } from 'node:crypto';
import { JobTokensService } from '../tracking/job-tokens.service';
import { TrackingService } from '../tracking/tracking.service';
import { JobRunSpec, RunEnd, RunTracker, runIdentity, TrackedRun } from './run-tracker';

/**
 * Alidade's own tracking: the run is a row of the tracking module (id = the job's mlflowRunId, 32 lowercase hex as
 * MLflow's), and the job talks to Alidade's MLflow face at PUBLIC_URL with a job token that dies with the job.
 */
export class LocalRunTracker extends RunTracker {
  readonly description: string;

  constructor(
    private readonly publicUrl: string,
    private readonly tracking: TrackingService,
    private readonly tokens: JobTokensService,
  ) {
    super();
    this.description = `Alidade's MLflow face at ${publicUrl}`;
  }

  async start(spec: JobRunSpec): Promise<TrackedRun> {
    const runId = randomBytes(16).toString('hex');
    const { runName, tags } = runIdentity(spec);
    await this.tracking.startJobRun({ runId, experimentId: spec.experimentId, ownerId: spec.ownerId, runName, tags });
    let token: string;
    try {
      token = await this.tokens.issue({ jobId: spec.jobId, experimentId: spec.experimentId, ownerId: spec.ownerId });
    } catch (e) {
      await this.tracking.finishJobRun(runId, 'FAILED').catch(() => undefined);
      throw e;
    }
    const env = { MLFLOW_TRACKING_URI: this.publicUrl, MLFLOW_TRACKING_TOKEN: token, MLFLOW_RUN_ID: runId, MLFLOW_EXPERIMENT_ID: String(spec.experimentId) };
    return { runId, trackingUri: this.publicUrl, env };
  }

  async finish(jobId: string, runId: string, end: RunEnd): Promise<void> {
    try {
      await this.tracking.finishJobRun(runId, end);
    } finally {
      // The token dies with the job even when the run could not be closed.
      await this.tokens.revoke(jobId);
    }
  }
}
