import { Logger } from '@nestjs/common';
import { ExternalMlflowConfig } from '../config/config';
import { ExternalMlflowClient } from '../tracking/external-mlflow.client';
import { JobRunSpec, RunEnd, RunTracker, runIdentity, TrackedRun } from './run-tracker';

/**
 * External MLflow mode: each job's run lives in the lab's MLflow server, in the experiment named like the job's
 * Alidade experiment (created there when absent); the job gets that server's URI and the worker's credentials for it.
 * There is no per-job token to revoke: the credentials are the lab's.
 */
export class ExternalRunTracker extends RunTracker {
  private readonly logger = new Logger(ExternalRunTracker.name);
  private readonly client: ExternalMlflowClient;

  constructor(private readonly cfg: ExternalMlflowConfig) {
    super();
    this.client = new ExternalMlflowClient(cfg);
  }

  get description(): string {
    return `external MLflow server at ${this.cfg.uri}`;
  }

  async start(spec: JobRunSpec): Promise<TrackedRun> {
    const experimentId = await this.client.ensureExperiment(spec.experimentName);
    const { runName, tags } = runIdentity(spec);
    const runId = await this.client.createRun({ experimentId, userId: spec.ownerName, runName, startTime: spec.startTime, tags });
    // mlflowRunId holds MLflow's shape (32 characters, uuid4 hex); another server's id would not fit it.
    if (!/^[A-Za-z0-9][\w-]{31}$/.test(runId)) {
      await this.client.setTerminated(runId, 'FAILED', Date.now()).catch(() => undefined);
      throw new Error(`the MLflow server at ${this.cfg.uri} made run id "${runId.slice(0, 80)}", not 32 characters as MLflow's ids are`);
    }
    const env: Record<string, string> = { MLFLOW_TRACKING_URI: this.cfg.uri, MLFLOW_RUN_ID: runId, MLFLOW_EXPERIMENT_ID: experimentId };
    if (this.cfg.username && this.cfg.password) Object.assign(env, { MLFLOW_TRACKING_USERNAME: this.cfg.username, MLFLOW_TRACKING_PASSWORD: this.cfg.password });
    else if (this.cfg.token) env.MLFLOW_TRACKING_TOKEN = this.cfg.token;
    return { runId, trackingUri: this.cfg.uri, env };
  }

  async finish(jobId: string, runId: string, end: RunEnd): Promise<void> {
    // A status the job's client wrote stays, except that cancel and timeout always show as KILLED.
    if (end !== 'KILLED') {
      const status = await this.client.runStatus(runId);
      if (status !== 'RUNNING' && status !== 'SCHEDULED') return;
    }
    await this.client.setTerminated(runId, end, Date.now());
    this.logger.debug(`[job ${jobId}] run ${runId} closed ${end} on ${this.cfg.uri}`);
  }
}
