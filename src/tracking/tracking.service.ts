import { Injectable } from '@nestjs/common';
import { RunStatus } from './run.entity';
import { TrackingRepository } from './tracking.repository';

export const artifactUriOf = (experimentId: number, runId: string) => `mlflow-artifacts:/${experimentId}/${runId}/artifacts`;

/**
 * Runs, params, tags, metrics and artifacts. Used by the MLflow face, the v1 reads and the worker: every tracking rule
 * lives here once (who may write, key and value limits, param immutability, latest metrics).
 */
@Injectable()
export class TrackingService {
  constructor(private readonly repo: TrackingRepository) {}

  /**
   * The worker's run for a job (reference §12): id = the job's mlflowRunId, RUNNING, start_time now, user = the owner's
   * username, tags mlflow.runName / mlflow.user plus the given ones. Idempotent: a run that exists is left as it is.
   */
  async startJobRun({ runId, experimentId, ownerId, runName, tags }: { runId: string; experimentId: number; ownerId: number; runName: string; tags: Record<string, string> }): Promise<void> {
    const username = await this.repo.username(ownerId);
    const jobId = tags['alidade.jobId'] ?? null;
    await this.repo.transaction(async (em) => {
      const created = await this.repo.insertRun(
        { id: runId, experimentId, ownerId, jobId, userId: username, status: 'RUNNING', startTime: Date.now(), runName, artifactUri: artifactUriOf(experimentId, runId) },
        em,
      );
      if (!created) return;
      const all = { ...tags, 'mlflow.runName': runName, 'mlflow.user': username };
      await this.repo.setTags(runId, Object.entries(all).map(([key, value]) => ({ key, value })), em);
    });
  }

  /** Closes a job's run when its process is gone: only if still RUNNING/SCHEDULED (a status the job wrote stays). */
  async finishJobRun(runId: string, status: Extract<RunStatus, 'FINISHED' | 'FAILED' | 'KILLED'>): Promise<void> {
    await this.repo.finishIfRunning(runId, status, Date.now());
  }
}
