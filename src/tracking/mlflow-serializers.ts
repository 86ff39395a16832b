// Domain objects → MLflow's response JSON (reference §4): ids as strings, int64 as numbers, non-finite doubles as
// "NaN"/"Infinity", empty lists and unset fields omitted.
import { TrackingInvalidError } from './tracking.errors';
import { RunEntity } from './run.entity';
import { KeyValue, MetricPoint, RunData } from './tracking.repository';
import { ExperimentView, RunView } from './tracking.service';
import { doubleOut, int64Out } from './mlflow-wire';

export function experimentJson(e: ExperimentView): Record<string, unknown> {
  return {
    experiment_id: String(e.id),
    name: e.name,
    artifact_location: `mlflow-artifacts:/${e.id}`,
    lifecycle_stage: e.lifecycleStage,
    last_update_time: e.lastUpdateTime,
    creation_time: e.creationTime,
    ...(e.tags.length ? { tags: e.tags } : {}),
  };
}

export function runInfoJson(r: RunEntity): Record<string, unknown> {
  return {
    run_id: r.id,
    run_uuid: r.id,
    experiment_id: String(r.experimentId),
    run_name: r.runName,
    user_id: r.userId,
    status: r.status,
    start_time: int64Out(r.startTime),
    ...(r.endTime !== null && r.endTime !== undefined ? { end_time: int64Out(r.endTime) } : {}),
    artifact_uri: r.artifactUri,
    lifecycle_stage: r.lifecycleStage,
  };
}

export function metricJson(m: MetricPoint): Record<string, unknown> {
  return { key: m.key, value: doubleOut(m.value), timestamp: int64Out(m.timestamp), step: int64Out(m.step) };
}

function dataJson(d: RunData): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (d.metrics.length) out.metrics = d.metrics.map(metricJson);
  if (d.params.length) out.params = d.params.map(kv);
  if (d.tags.length) out.tags = d.tags.map(kv);
  return out;
}

const kv = (t: KeyValue) => ({ key: t.key, value: t.value });

export function runJson(v: RunView): Record<string, unknown> {
  return { info: runInfoJson(v.run), data: dataJson(v.data), inputs: {} };
}

/** MLflow's offset tokens: base64 of `{"offset": N}`. */
export function offsetToken(offset: number): string {
  return Buffer.from(JSON.stringify({ offset })).toString('base64');
}

export function parseOffsetToken(token: string | undefined): number {
  if (!token) return 0;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64').toString('utf8'));
  } catch {
    throw new TrackingInvalidError('Invalid page token, could not base64-decode');
  }
  const offset = (parsed as { offset?: unknown } | null)?.offset;
  if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) throw new TrackingInvalidError(`Invalid page token, parsed value=${JSON.stringify(parsed)}`);
  return offset;
}

/** get-history tokens name the last point returned (keyset paging: a 1M-point history pages in constant time). */
export function historyToken(m: MetricPoint): string {
  return Buffer.from(JSON.stringify({ t: m.timestamp, s: m.step, v: doubleOut(m.value) })).toString('base64');
}

export function parseHistoryToken(token: string | undefined): { t: string; s: string; v: number } | null {
  if (!token) return null;
  try {
    const p = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as { t: string; s: string; v: number | string };
    const v = typeof p.v === 'string' ? (p.v === 'NaN' ? NaN : p.v === 'Infinity' ? Infinity : -Infinity) : p.v;
    if (!/^-?\d+$/.test(String(p.t)) || !/^-?\d+$/.test(String(p.s)) || typeof v !== 'number') throw new Error('bad token');
    return { t: String(p.t), s: String(p.s), v };
  } catch {
    throw new TrackingInvalidError('Invalid page token, could not base64-decode');
  }
}
