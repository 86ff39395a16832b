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
    // Two independent rows: written side by side (two connections), not one after the other.
    const [run, issued] = await Promise.allSettled([
      this.tracking.startJobRun({ runId, experimentId: spec.experimentId, ownerId: spec.ownerId, runName, tags }),
      this.tokens.issue({ jobId: spec.jobId, experimentId: spec.experimentId, ownerId: spec.ownerId }),
    ]);
    if (run.status === 'rejected' || issued.status === 'rejected') {
      if (run.status === 'fulfilled') await this.tracking.finishJobRun(runId, 'FAILED').catch(() => undefined);
      if (issued.status === 'fulfilled') await this.tokens.revoke(spec.jobId).catch(() => undefined);
      throw run.status === 'rejected' ? run.reason : (issued as PromiseRejectedResult).reason;
    }
    const token = issued.value;
    const env = { MLFLOW_TRACKING_URI: this.publicUrl, MLFLOW_TRACKING_TOKEN: token, MLFLOW_RUN_ID: runId, MLFLOW_EXPERIMENT_ID: String(spec.experimentId) };
    return { runId, trackingUri: this.publicUrl, env };
  }

  async finish(jobId: string, runId: string, end: RunEnd): Promise<void> {
    // The token dies with the job even when the run could not be closed; both at once.
    const [closed, revoked] = await Promise.allSettled([this.tracking.finishJobRun(runId, end), this.tokens.revoke(jobId)]);
    if (closed.status === 'rejected') throw closed.reason;
    if (revoked.status === 'rejected') throw revoked.reason;
  }
}
