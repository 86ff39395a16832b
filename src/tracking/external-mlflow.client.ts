// A small client of a real MLflow tracking server's REST API, for external MLflow mode: the worker creates and closes
// jobs' runs there with the same calls the `mlflow` client makes (experiments/get-by-name|create, runs/create|get|update).
// Depends on nothing but the config shape; used only by the worker's RunTracker.
import { ExternalMlflowConfig } from '../config/config';

/** One request's bound; a job's start waits at most ATTEMPTS of these (plus the pauses) for its run. */
const REQUEST_TIMEOUT_MS = 15_000;
const ATTEMPTS = 3;
const RETRY_PAUSE_MS = [500, 1500];
/** As the mlflow client: 408, 429 and 5xx are worth another try; 4xx are answers. */
const RETRIED_STATUSES = new Set([408, 429, 500, 502, 503, 504]);

export type MlflowRunStatus = 'RUNNING' | 'SCHEDULED' | 'FINISHED' | 'FAILED' | 'KILLED';

/** What went wrong, in words a job's owner can act on; never the credentials. */
export class ExternalMlflowError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    readonly errorCode?: string,
  ) {
    super(message);
  }
}

export interface CreateRunRequest {
  experimentId: string;
  userId: string;
  runName: string;
  startTime: number;
  tags: Record<string, string>;
}

export class ExternalMlflowClient {
  constructor(
    private readonly cfg: ExternalMlflowConfig,
    private readonly timeoutMs = REQUEST_TIMEOUT_MS,
  ) {}

  get uri(): string {
    return this.cfg.uri;
  }

  /** The experiment's id, created when absent (a concurrent create by another worker is fine). */
  async ensureExperiment(name: string): Promise<string> {
    const found = await this.experimentByName(name);
    if (found) return found;
    try {
      const created = await this.call<{ experiment_id?: string }>('POST', 'experiments/create', { name });
      if (created.experiment_id) return String(created.experiment_id);
    } catch (e) {
      if (!(e instanceof ExternalMlflowError && e.errorCode === 'RESOURCE_ALREADY_EXISTS')) throw e;
    }
    const raced = await this.experimentByName(name);
    if (!raced) throw new ExternalMlflowError(`the MLflow server at ${this.cfg.uri} neither has nor created experiment "${name}"`);
    return raced;
  }

  private async experimentByName(name: string): Promise<string | null> {
    try {
      const res = await this.call<{ experiment?: { experiment_id?: string; lifecycle_stage?: string } }>('GET', 'experiments/get-by-name', { experiment_name: name });
      const exp = res.experiment;
      if (!exp?.experiment_id) return null;
      if (exp.lifecycle_stage && exp.lifecycle_stage !== 'active') {
        throw new ExternalMlflowError(`experiment "${name}" is deleted on the MLflow server at ${this.cfg.uri}: restore or rename it there`);
      }
      return String(exp.experiment_id);
    } catch (e) {
      if (e instanceof ExternalMlflowError && e.errorCode === 'RESOURCE_DOES_NOT_EXIST') return null;
      throw e;
    }
  }

  /** A RUNNING run; returns the server's run id. */
  async createRun(req: CreateRunRequest): Promise<string> {
    const res = await this.call<{ run?: { info?: { run_id?: string; run_uuid?: string } } }>('POST', 'runs/create', {
      experiment_id: req.experimentId,
      user_id: req.userId,
      run_name: req.runName,
      start_time: req.startTime,
      tags: Object.entries(req.tags).map(([key, value]) => ({ key, value })),
    });
    const id = res.run?.info?.run_id || res.run?.info?.run_uuid;
    if (!id) throw new ExternalMlflowError(`the MLflow server at ${this.cfg.uri} answered runs/create without a run id`);
    return id;
  }

  async runStatus(runId: string): Promise<MlflowRunStatus> {
    const res = await this.call<{ run?: { info?: { status?: MlflowRunStatus } } }>('GET', 'runs/get', { run_id: runId, run_uuid: runId });
    return res.run?.info?.status ?? 'RUNNING';
  }

  async setTerminated(runId: string, status: MlflowRunStatus, endTime: number): Promise<void> {
    await this.call('POST', 'runs/update', { run_id: runId, run_uuid: runId, status, end_time: endTime });
  }

  private headers(): Record<string, string> {
    const h: Record<string, string> = { 'User-Agent': 'alidade-worker' };
    // As the mlflow client: username and password win over a token.
    if (this.cfg.username && this.cfg.password) h.Authorization = `Basic ${Buffer.from(`${this.cfg.username}:${this.cfg.password}`).toString('base64')}`;
    else if (this.cfg.token) h.Authorization = `Bearer ${this.cfg.token}`;
    return h;
  }

  private async call<T>(method: 'GET' | 'POST', endpoint: string, message: Record<string, unknown>): Promise<T> {
    let url = `${this.cfg.uri}/api/2.0/mlflow/${endpoint}`;
    const init: RequestInit = { method, headers: this.headers(), redirect: 'follow' };
    if (method === 'GET') url += `?${new URLSearchParams(message as Record<string, string>).toString()}`;
    else {
      init.body = JSON.stringify(message);
      (init.headers as Record<string, string>)['Content-Type'] = 'application/json';
    }
    for (let attempt = 1; ; attempt++) {
      let failure: ExternalMlflowError;
      try {
        const res = await fetch(url, { ...init, signal: AbortSignal.timeout(this.timeoutMs) });
        const text = await res.text();
        if (res.ok) return (text ? JSON.parse(text) : {}) as T;
        failure = this.errorFrom(method, endpoint, res.status, text);
        if (!RETRIED_STATUSES.has(res.status)) throw failure;
      } catch (e) {
        if (e instanceof ExternalMlflowError && !RETRIED_STATUSES.has(e.status ?? 0)) throw e;
        failure = e instanceof ExternalMlflowError ? e : new ExternalMlflowError(`the MLflow server at ${this.cfg.uri} did not answer ${endpoint}: ${networkReason(e)}`);
      }
      if (attempt >= ATTEMPTS) throw failure;
      await new Promise((r) => setTimeout(r, RETRY_PAUSE_MS[attempt - 1] ?? 1500));
    }
  }

  private errorFrom(method: string, endpoint: string, status: number, text: string): ExternalMlflowError {
    let code: string | undefined;
    let message = text.slice(0, 300);
    try {
      const body = JSON.parse(text) as { error_code?: unknown; message?: unknown };
      if (typeof body.error_code === 'string') code = body.error_code;
      if (typeof body.message === 'string') message = body.message.slice(0, 300);
    } catch {
      // not JSON: keep the start of the text
    }
    return new ExternalMlflowError(`the MLflow server at ${this.cfg.uri} answered ${method} ${endpoint} with ${status}${code ? ` ${code}` : ''}: ${message}`, status, code);
  }
}

function networkReason(e: unknown): string {
  const err = e as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (err?.name === 'TimeoutError') return 'no answer within the timeout';
  return err?.cause?.code ?? err?.cause?.message ?? err?.message ?? String(e);
}
