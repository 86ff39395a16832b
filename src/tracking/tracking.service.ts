import { Injectable } from '@nestjs/common';
import { randomBytes, randomInt } from 'node:crypto';
import { AuthUser, mayActOn } from '../common/auth-user';
import { PermissionDeniedError } from '../common/errors/domain-error';
import { slugify } from '../common/slugify';
import { ExperimentAlreadyExistsError, ExperimentNameReservedError, ExperimentNotFoundError } from '../experiments/experiments.errors';
import { ExperimentsService } from '../experiments/experiments.service';
import { RUN_STATUSES, RunEntity, RunStatus } from './run.entity';
import { Clause, OrderBy } from './search-filter';
import { ExperimentRow, KeyValue, MetricPoint, RunData, TrackingRepository } from './tracking.repository';
import { RunNotActiveError, RunNotFoundError, TrackingAlreadyExistsError, TrackingInvalidError, TrackingNotFoundError } from './tracking.errors';
import { MetricIn, pyRepr, validateParamKeysUnique } from './tracking-validation';

const RUN_ID = /^[a-zA-Z0-9][\w-]{0,31}$/;

export const artifactUriOf = (experimentId: number, runId: string) => `mlflow-artifacts:/${experimentId}/${runId}/artifacts`;

/** MLflow's `Default` experiment: id 0, on the MLflow face only (not an Alidade experiment row); anyone may log to it. */
export const DEFAULT_EXPERIMENT_ID = 0;
export const DEFAULT_EXPERIMENT_NAME = 'Default';

export interface ExperimentView {
  id: number;
  name: string;
  lifecycleStage: 'active' | 'deleted';
  creationTime: number;
  lastUpdateTime: number;
  tags: KeyValue[];
}

export interface RunView {
  run: RunEntity;
  data: RunData;
}

export type ViewType = 'ACTIVE_ONLY' | 'DELETED_ONLY' | 'ALL';
const STAGES: Record<ViewType, Array<'active' | 'deleted'>> = { ACTIVE_ONLY: ['active'], DELETED_ONLY: ['deleted'], ALL: ['active', 'deleted'] };

const ADJECTIVES = ['bold', 'calm', 'clever', 'bright', 'gentle', 'keen', 'lucky', 'merry', 'quiet', 'rare', 'swift', 'tidy', 'vivid', 'wise'];
const NOUNS = ['bass', 'crane', 'finch', 'fox', 'hawk', 'kit', 'lark', 'mole', 'owl', 'ram', 'seal', 'toad', 'wren', 'yak'];

/**
 * Runs, params, tags, metrics and experiments as MLflow sees them. Used by the MLflow face, the v1 reads and the
 * worker: every tracking rule lives here once (who may read and write, limits, param immutability, latest metrics).
 * Readers: any user; a job token only its own experiment. Writers: the run's owner or an admin; a job token only the
 * runs of its own job.
 */
@Injectable()
export class TrackingService {
  constructor(
    private readonly repo: TrackingRepository,
    private readonly experiments: ExperimentsService,
  ) {}

  // ---- the worker's side

  /**
   * The worker's run for a job (reference §12): id = the job's mlflowRunId, RUNNING, start_time now, user = the owner's
   * username, tags mlflow.runName / mlflow.user plus the given ones. Idempotent: a run that exists is left as it is.
   */
  async startJobRun({ runId, experimentId, ownerId, runName, tags }: { runId: string; experimentId: number; ownerId: number; runName: string; tags: Record<string, string> }): Promise<void> {
    const jobId = tags['alidade.jobId'] ?? null;
    const all = { ...tags, 'mlflow.runName': runName };
    await this.repo.insertJobRun(
      { id: runId, experimentId, ownerId, jobId, status: 'RUNNING', startTime: Date.now(), runName, artifactUri: artifactUriOf(experimentId, runId) },
      Object.entries(all).map(([key, value]) => ({ key, value })),
    );
  }

  /**
   * Closes a job's run when its process is gone (reference §12, API.md §8): a run still RUNNING/SCHEDULED — the job's
   * own and any nested one it left open — gets FINISHED / FAILED; a status the client already wrote stays, except that
   * KILLED (cancel, timeout) wins on the job's run.
   */
  async finishJobRun(runId: string, status: Extract<RunStatus, 'FINISHED' | 'FAILED' | 'KILLED'>): Promise<void> {
    await this.repo.finishJobRuns(runId, status, Date.now(), status === 'KILLED');
  }

  // ---- experiments

  async getExperiment(actor: AuthUser, id: number): Promise<ExperimentView> {
    this.assertMayRead(actor, id);
    const view = await this.experimentView(id);
    if (!view) throw new TrackingNotFoundError(`No Experiment with id=${id} exists`);
    return view;
  }

  async getExperimentByName(actor: AuthUser, name: string): Promise<ExperimentView> {
    let id: number | null = null;
    if (name === DEFAULT_EXPERIMENT_NAME) id = DEFAULT_EXPERIMENT_ID;
    else {
      const found = await this.experiments.get({ name }).catch((e: unknown) => {
        if (e instanceof ExperimentNotFoundError) return null;
        throw e;
      });
      id = found?.id ?? null;
    }
    const view = id === null ? null : await this.experimentView(id);
    if (!view) throw new TrackingNotFoundError(`Could not find experiment with name '${name}'`);
    this.assertMayRead(actor, view.id);
    return view;
  }

  /** An Alidade experiment owned by the caller, with Alidade's name rules (slugified), plus MLflow tags. */
  async createExperiment(actor: AuthUser, name: string, tags: KeyValue[]): Promise<number> {
    if (actor.job) throw new PermissionDeniedError('a job token may not create experiments');
    if (name === DEFAULT_EXPERIMENT_NAME || slugify(name) === slugify(DEFAULT_EXPERIMENT_NAME)) {
      throw new TrackingAlreadyExistsError(`Experiment(name=${name}) already exists.`);
    }
    try {
      const created = await this.experiments.create(actor, { name });
      await this.repo.setExperimentTags(created.id, tags);
      return created.id;
    } catch (e) {
      if (e instanceof ExperimentAlreadyExistsError || e instanceof ExperimentNameReservedError) {
        throw new TrackingAlreadyExistsError(`Experiment(name=${name}) already exists.`);
      }
      throw e;
    }
  }

  async setExperimentTag(actor: AuthUser, experimentId: number, tag: KeyValue): Promise<void> {
    const view = await this.getExperiment(actor, experimentId);
    if (actor.job) throw new PermissionDeniedError('a job token may not change experiments');
    const owner = experimentId === DEFAULT_EXPERIMENT_ID ? null : (await this.repo.findExperiment(experimentId))!.ownerId;
    if (!mayActOn(actor, owner)) throw new PermissionDeniedError('only the owner of an experiment or an admin may change it');
    if (view.lifecycleStage !== 'active') throw new TrackingInvalidError(`The experiment ${experimentId} must be in the 'active' state. Current state is deleted.`);
    await this.repo.setExperimentTags(experimentId, [tag]);
  }

  /** experiments/search: `name` filters = / != / LIKE / ILIKE, offset tokens. */
  async searchExperiments(actor: AuthUser, q: { viewType: ViewType; filter?: { op: string; name: string }; offset: number; limit: number }): Promise<{ experiments: ExperimentView[]; more: boolean }> {
    const stages = STAGES[q.viewType];
    const matchesDefault = (): boolean => {
      if (q.offset > 0 || !stages.includes('active')) return false;
      if (!q.filter) return true;
      const { op, name } = q.filter;
      if (op === '=') return name === DEFAULT_EXPERIMENT_NAME;
      if (op === '!=') return name !== DEFAULT_EXPERIMENT_NAME;
      const re = new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/%/g, '.*').replace(/_/g, '.')}$`, op === 'ILIKE' ? 'is' : 's');
      return re.test(DEFAULT_EXPERIMENT_NAME);
    };
    const includeDefault = matchesDefault() && (!actor.job || actor.job.experimentId === DEFAULT_EXPERIMENT_ID);
    const limit = includeDefault ? q.limit - 1 : q.limit;
    const offset = includeDefault ? 0 : Math.max(0, q.offset - 1);
    let rows = limit > 0 || !includeDefault ? await this.repo.searchExperiments({ name: q.filter?.name, op: q.filter?.op }, stages, offset, Math.max(limit, 0)) : [];
    if (actor.job) rows = rows.filter((r) => r.id === actor.job!.experimentId);
    const more = rows.length > Math.max(limit, 0);
    rows = rows.slice(0, Math.max(limit, 0));
    const tags = await this.repo.experimentTags([...(includeDefault ? [DEFAULT_EXPERIMENT_ID] : []), ...rows.map((r) => r.id)]);
    const views = rows.map((r) => this.toView(r, tags.get(r.id) ?? []));
    if (includeDefault) views.unshift(this.defaultView(tags.get(DEFAULT_EXPERIMENT_ID) ?? []));
    return { experiments: views, more };
  }

  private async experimentView(id: number): Promise<ExperimentView | null> {
    if (id === DEFAULT_EXPERIMENT_ID) return this.defaultView((await this.repo.experimentTags([id])).get(id) ?? []);
    const row = await this.repo.findExperiment(id);
    if (!row) return null;
    return this.toView(row, (await this.repo.experimentTags([id])).get(id) ?? []);
  }

  private toView(row: ExperimentRow, tags: KeyValue[]): ExperimentView {
    return {
      id: row.id,
      name: row.name,
      lifecycleStage: row.archived || row.deleted ? 'deleted' : 'active',
      creationTime: row.createdAt.getTime(),
      lastUpdateTime: row.lastModified.getTime(),
      tags,
    };
  }

  private defaultView(tags: KeyValue[]): ExperimentView {
    return { id: DEFAULT_EXPERIMENT_ID, name: DEFAULT_EXPERIMENT_NAME, lifecycleStage: 'active', creationTime: 0, lastUpdateTime: 0, tags };
  }

  // ---- runs

  async createRun(actor: AuthUser, input: { experimentId: number; startTime?: number; runName?: string; tags: KeyValue[] }): Promise<RunView> {
    const experiment = await this.getExperiment(actor, input.experimentId);
    if (experiment.lifecycleStage !== 'active') {
      throw new TrackingInvalidError(`The experiment ${experiment.id} must be in the 'active' state. Current state is ${experiment.lifecycleStage}.`);
    }
    if (experiment.id !== DEFAULT_EXPERIMENT_ID && !actor.job) {
      const owner = (await this.repo.findExperiment(experiment.id))!.ownerId;
      if (!mayActOn(actor, owner)) throw new PermissionDeniedError('only the owner of an experiment or an admin may create runs in it');
    }
    const tagName = input.tags.find((t) => t.key === 'mlflow.runName')?.value;
    if (input.runName && tagName && input.runName !== tagName) {
      throw new TrackingInvalidError(`Both 'run_name' argument and 'mlflow.runName' tag are specified, but with different values (run_name='${input.runName}', mlflow.runName='${tagName}').`);
    }
    const runName = input.runName || tagName || `${ADJECTIVES[randomInt(ADJECTIVES.length)]}-${NOUNS[randomInt(NOUNS.length)]}-${randomInt(1000)}`;
    const id = randomBytes(16).toString('hex');
    const tags = [...input.tags.filter((t) => t.key !== 'mlflow.runName'), { key: 'mlflow.runName', value: runName }];
    await this.repo.transaction(async (em) => {
      await this.repo.insertRun(
        {
          id,
          experimentId: experiment.id,
          ownerId: actor.id,
          jobId: actor.job?.id ?? null,
          userId: actor.username,
          status: 'RUNNING',
          startTime: input.startTime ?? Date.now(),
          runName,
          artifactUri: artifactUriOf(experiment.id, id),
        },
        em,
      );
      await this.repo.setTags(id, dedupe(tags), em);
    });
    return this.getRun(actor, id);
  }

  async getRun(actor: AuthUser, runId: string): Promise<RunView> {
    const view = RUN_ID.test(runId) ? await this.repo.findRunWithData(runId) : null;
    if (!view) throw new RunNotFoundError(runId);
    this.assertMayRead(actor, view.run.experimentId);
    return view;
  }

  /** A run the caller may read (a job token: runs of its experiment). */
  async runForRead(actor: AuthUser, runId: string): Promise<RunEntity> {
    const run = await this.findRun(runId);
    if (!run) throw new RunNotFoundError(runId);
    this.assertMayRead(actor, run.experimentId);
    return run;
  }

  /** A run the caller may write: active, and theirs (owner, admin, or the job that owns it). */
  async runForWrite(actor: AuthUser, runId: string): Promise<RunEntity> {
    const run = await this.findRun(runId);
    if (!run) throw new RunNotFoundError(runId);
    if (actor.job ? run.jobId !== actor.job.id : !mayActOn(actor, run.ownerId)) {
      throw new PermissionDeniedError(actor.job ? "a job token may write only its own job's runs" : 'only the owner of a run or an admin may change it');
    }
    if (run.lifecycleStage !== 'active') throw new RunNotActiveError(run.id, run.lifecycleStage);
    return run;
  }

  async updateRun(actor: AuthUser, runId: string, input: { status?: string; endTime?: number; runName?: string }): Promise<RunEntity> {
    const run = await this.runForWrite(actor, runId);
    let status: RunStatus | undefined;
    if (input.status !== undefined) {
      if (!(RUN_STATUSES as readonly string[]).includes(input.status)) {
        throw new TrackingInvalidError(`Invalid value "${input.status}" for parameter 'status' supplied. Valid values are ${RUN_STATUSES.join(', ')}.`);
      }
      status = input.status as RunStatus;
    }
    await this.repo.transaction(async (em) => {
      await this.repo.updateRun(run.id, { status, endTime: input.endTime, runName: input.runName || undefined }, em);
      if (input.runName) await this.repo.setTags(run.id, [{ key: 'mlflow.runName', value: input.runName }], em);
    });
    return (await this.repo.findRun(run.id))!;
  }

  async setRunLifecycle(actor: AuthUser, runId: string, stage: 'active' | 'deleted'): Promise<void> {
    const run = await this.findRun(runId);
    if (!run) throw new RunNotFoundError(runId);
    if (actor.job ? run.jobId !== actor.job.id : !mayActOn(actor, run.ownerId)) throw new PermissionDeniedError('only the owner of a run or an admin may change it');
    await this.repo.setLifecycle(run.id, stage);
  }

  /** log-batch (and the single log calls): atomic, params immutable, tags upserted, metric points appended. */
  async logBatch(actor: AuthUser, runId: string, batch: { metrics: MetricIn[]; params: KeyValue[]; tags: KeyValue[] }, single = false): Promise<void> {
    validateParamKeysUnique(batch.params);
    const run = await this.runForWrite(actor, runId);
    // The hot case (metrics only: log_metric, log_metrics) is one statement, no transaction round trips.
    if (batch.params.length === 0 && batch.tags.length === 0) return this.repo.insertMetrics(run.id, batch.metrics);
    await this.repo.transaction(async (em) => {
      const existing = await this.repo.existingParams(
        run.id,
        batch.params.map((p) => p.key),
        em,
      );
      this.assertParamsUnchanged(run.id, batch.params, existing, single);
      // A concurrent writer may have taken a key since the read: its value must be ours too.
      const raced = await this.repo.insertParams(
        run.id,
        batch.params.filter((p) => !existing.has(p.key)),
        em,
      );
      this.assertParamsUnchanged(run.id, batch.params, raced, single);
      await this.repo.insertMetrics(run.id, batch.metrics, em);
      await this.repo.setTags(run.id, dedupe(batch.tags), em);
    });
  }

  /** MLflow's texts: the single log-parameter call names one param, a batch lists them all. */
  private assertParamsUnchanged(runId: string, params: KeyValue[], existing: Map<string, string>, single: boolean): void {
    const changed = params.filter((p) => existing.has(p.key) && existing.get(p.key) !== p.value);
    if (changed.length === 0) return;
    if (single) {
      const p = changed[0];
      throw new TrackingInvalidError(
        `Changing param values is not allowed. Param with key='${p.key}' was already logged with value='${existing.get(p.key)}' for run ID='${runId}'. Attempted logging new value '${p.value}'.`,
      );
    }
    const list = changed.map((p) => `{'key': ${pyRepr(p.key)}, 'old_value': ${pyRepr(existing.get(p.key)!)}, 'new_value': ${pyRepr(p.value)}}`).join(', ');
    throw new TrackingInvalidError(`Changing param values is not allowed. Params were already logged='[${list}]' for run ID='${runId}'.`);
  }


  async deleteTag(actor: AuthUser, runId: string, key: string): Promise<void> {
    const run = await this.runForWrite(actor, runId);
    if (!(await this.repo.deleteTag(run.id, key))) throw new TrackingNotFoundError(`No tag with name: ${key} in run with id ${run.id}`);
  }

  /** A page of get-history (timestamp, step, value order); a metric never logged gives no points. */
  async metricHistory(actor: AuthUser, runId: string, key: string, after: { t: string; s: string; v: number } | null, limit: number): Promise<{ points: MetricPoint[]; more: boolean }> {
    const run = await this.findRun(runId);
    if (run) this.assertMayRead(actor, run.experimentId);
    else if (!RUN_ID.test(runId)) return { points: [], more: false };
    const rows = await this.repo.metricHistory(runId, key, after, limit + 1);
    return { points: rows.slice(0, limit), more: rows.length > limit };
  }

  async searchRuns(actor: AuthUser, q: { experimentIds: number[]; viewType: ViewType; clauses: Clause[]; order: OrderBy[]; offset: number; limit: number }): Promise<{ runs: RunView[]; more: boolean }> {
    for (const id of q.experimentIds) this.assertMayRead(actor, id);
    if (q.experimentIds.length === 0) return { runs: [], more: false };
    const rows = await this.repo.searchRuns(q.experimentIds, STAGES[q.viewType], q.clauses, q.order, q.offset, q.limit);
    const page = rows.slice(0, q.limit);
    const data = await this.repo.runData(page.map((r) => r.id));
    return { runs: page.map((run) => ({ run, data: data.get(run.id)! })), more: rows.length > q.limit };
  }

  // ---- v1 reads

  /** A job's run for /api/v1 (null when the job has no run here: not started, or external MLflow mode). */
  async runWithArtifacts(runId: string): Promise<(RunView & { artifacts: Array<{ path: string; size: string }> }) | null> {
    const run = await this.repo.findRun(runId);
    if (!run) return null;
    const [data, artifacts] = await Promise.all([this.repo.runData([run.id]), this.repo.listAllArtifacts(run.id)]);
    return { run, data: data.get(run.id)!, artifacts };
  }

  metricPointsByStep(runId: string, key: string, offset: number, limit: number): Promise<{ total: number; rows: MetricPoint[] }> {
    return this.repo.metricPointsByStep(runId, key, offset, limit);
  }

  /**
   * Every metric key of a run with its latest point and its number of points (v1 `GET /jobs/{id}/metrics`); null when
   * the run is not on this server (external MLflow mode), as runWithArtifacts.
   */
  async metricSummaries(runId: string): Promise<Array<MetricPoint & { count: number }> | null> {
    if (!(await this.repo.findRun(runId))) return null;
    return this.repo.metricSummaries(runId);
  }

  /**
   * One metric's points after `afterStep` in step order, for a chart: all of them when they are at most `maxPoints`,
   * else min/max-bucketed into maxPoints / 2 buckets (each keeps its smallest and largest point), so a chart of a
   * million points stays small and its spikes survive. `total` counts the points before bucketing. Null when the run
   * is not on this server.
   */
  async metricSeries(runId: string, key: string, q: { maxPoints: number; afterStep?: string }): Promise<{ points: MetricPoint[]; total: number; bucketed: boolean } | null> {
    if (!(await this.repo.findRun(runId))) return null;
    const total = await this.repo.countMetricPoints(runId, key, q.afterStep);
    if (total <= q.maxPoints) return { points: await this.repo.metricSeries(runId, key, q.afterStep), total, bucketed: false };
    const buckets = Math.floor(q.maxPoints / 2);
    return { points: await this.repo.metricSeries(runId, key, q.afterStep, { buckets, total }), total, bucketed: true };
  }

  /** Ids are at most 32 characters of MLflow's run-id alphabet here: anything else names no run (and is not queried). */
  private findRun(runId: string): Promise<RunEntity | null> {
    return RUN_ID.test(runId) ? this.repo.findRun(runId) : Promise.resolve(null);
  }

  private assertMayRead(actor: AuthUser, experimentId: number): void {
    if (actor.job && actor.job.experimentId !== experimentId) throw new PermissionDeniedError("a job token may read only its own job's experiment");
  }
}

/** The last value of each key wins (as sequential upserts would). */
function dedupe(tags: KeyValue[]): KeyValue[] {
  return [...new Map(tags.map((t) => [t.key, t])).values()];
}
