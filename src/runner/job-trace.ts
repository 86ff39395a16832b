// Where one job's time goes on the worker: a timestamp per stage and the SQL statements each stage sent. Costs two
// clock reads per stage; logged (one line per job) only at LOG_LEVEL=debug, which is what `npm run bench` reads.
import { AsyncLocalStorage } from 'node:async_hooks';
import { performance } from 'node:perf_hooks';
import type { DataSource } from 'typeorm';

interface Stage {
  name: string;
  ms: number;
  sql: number;
}

/** The stages of one job, in the order they happened. */
export class JobTrace {
  private readonly startedAt = performance.now();
  private last = this.startedAt;
  private sqlAtLast = 0;
  /** SQL statements sent while this job's work ran (counted through the data source's logger). */
  sql = 0;
  readonly stages: Stage[] = [];

  /** Closes the stage that ran since the previous mark (at `at`, a performance.now() taken earlier, else now). */
  mark(name: string, at = performance.now()): void {
    this.stages.push({ name, ms: at - this.last, sql: this.sql - this.sqlAtLast });
    this.last = at;
    this.sqlAtLast = this.sql;
  }

  /** A stage measured elsewhere (the wait in Redis before this worker took the job), not on this trace's clock. */
  record(name: string, ms: number): void {
    this.stages.push({ name, ms, sql: 0 });
  }

  get totalMs(): number {
    return this.last - this.startedAt;
  }

  /** `claim=1.20ms/3q unpack=0.41ms/0q ... total=9.87ms/12q`: what the bench parses. */
  toString(): string {
    const parts = this.stages.map((s) => `${s.name}=${s.ms.toFixed(2)}ms/${s.sql}q`);
    return `${parts.join(' ')} total=${this.totalMs.toFixed(2)}ms/${this.sql}q`;
  }
}

const current = new AsyncLocalStorage<JobTrace>();

/** Runs `fn` with `trace` as the current job's: statements sent from inside it are counted on it. */
export function withTrace<T>(trace: JobTrace, fn: () => Promise<T>): Promise<T> {
  return current.run(trace, fn);
}

const counted = new WeakSet<DataSource>();

/**
 * Counts every statement of `ds` on the trace of the job that sent it. TypeORM calls its logger's logQuery for every
 * statement (transactions' BEGIN/COMMIT included) whatever the logging option, so this sees all of them.
 */
export function countStatements(ds: DataSource): void {
  if (counted.has(ds)) return;
  counted.add(ds);
  const logger = ds.logger;
  const original = logger.logQuery.bind(logger);
  logger.logQuery = (query, parameters, queryRunner) => {
    const trace = current.getStore();
    if (trace) trace.sql++;
    return original(query, parameters, queryRunner);
  };
}
