// MLflow's server-side limits (reference §8; mlflow/utils/validation.py), with its messages. Values over the length
// limit are truncated, as MLflow does by default (MLFLOW_TRUNCATE_LONG_VALUES).
import { invalidValue } from './mlflow-wire';
import { TrackingInvalidError } from './tracking.errors';

export const MAX_PARAMS_TAGS_PER_BATCH = 100;
export const MAX_METRICS_PER_BATCH = 1000;
export const MAX_ENTITIES_PER_BATCH = 1000;
export const MAX_PARAM_VAL_LENGTH = 6000;
export const MAX_TAG_VAL_LENGTH = 8000;
export const MAX_ENTITY_KEY_LENGTH = 250;
export const MAX_EXPERIMENT_NAME_LENGTH = 500;
export const MAX_EXPERIMENT_TAG_KEY_LENGTH = 250;
export const MAX_EXPERIMENT_TAG_VAL_LENGTH = 5000;

const KEY_CHARS = /^[/\p{L}\p{N}_.\- :]*$/u;
const RUN_ID = /^[a-zA-Z0-9][\w-]{0,255}$/;
const BAD_CHARACTERS = 'Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), colon(:) and slashes (/).';
const MISSING_KEY = 'A key name must be provided.';

/** Python's posixpath.normpath. */
export function normpath(p: string): string {
  if (p === '') return '.';
  const initial = p.startsWith('/') ? (p.startsWith('//') && !p.startsWith('///') ? 2 : 1) : 0;
  const out: string[] = [];
  for (const c of p.split('/')) {
    if (c === '' || c === '.') continue;
    if (c !== '..' || (initial === 0 && out.length === 0) || (out.length > 0 && out[out.length - 1] === '..')) out.push(c);
    else if (out.length > 0) out.pop();
  }
  const joined = '/'.repeat(initial) + out.join('/');
  return joined || '.';
}

/** Python repr() of a str (enough for names: single quotes unless the text holds one). */
function pyRepr(s: string): string {
  if (s.includes("'") && !s.includes('"')) return `"${s}"`;
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function pathNotUnique(name: string): boolean {
  const norm = normpath(name);
  return norm !== name || norm === '.' || norm.startsWith('..') || norm.startsWith('/');
}

function checkName(name: string, path: string): void {
  if (!KEY_CHARS.test(name)) throw new TrackingInvalidError(invalidValue(path, name, BAD_CHARACTERS));
  if (pathNotUnique(name)) {
    throw new TrackingInvalidError(
      invalidValue(
        path,
        name,
        `Names may be treated as files in certain cases, and must not resolve to other names when treated as such. This name would resolve to ${pyRepr(normpath(name))}`,
      ),
    );
  }
}

const join = (prefix: string, field: string) => (prefix ? `${prefix}.${field}` : field);

function lengthLimit(entity: string, limit: number, value: string, truncate: boolean): string {
  if (value.length <= limit) return value;
  if (truncate) return value.slice(0, limit);
  throw new TrackingInvalidError(`'${entity}' exceeds the maximum length of ${limit} characters`);
}

function noNul(path: string, value: string): void {
  if (value.includes('\u0000')) throw new TrackingInvalidError(invalidValue(path, value, 'NUL characters are not allowed.'));
}

export interface MetricIn {
  key: string;
  value: number;
  timestamp: number;
  step: number;
}

/** A metric as MLflow's _validate_metric checks it; `raw` values come straight from the request. */
export function validateMetric(key: unknown, value: number | undefined, rawValue: unknown, timestamp: number | undefined, rawTimestamp: unknown, step: number, prefix = ''): MetricIn {
  const namePath = join(prefix, 'name');
  if (key === undefined || key === null || key === '') throw new TrackingInvalidError(invalidValue(namePath, key ?? null, `Metric name cannot be None. ${MISSING_KEY}`));
  if (typeof key !== 'string') throw new TrackingInvalidError(invalidValue(namePath, key, BAD_CHARACTERS));
  checkName(key, namePath);
  if (rawValue === undefined || rawValue === null) throw new TrackingInvalidError(`Missing value for required parameter '${join(prefix, 'value')}'.`);
  if (value === undefined) {
    throw new TrackingInvalidError(
      invalidValue(join(prefix, 'value'), rawValue, `(timestamp=${String(rawTimestamp)}). Please specify value as a valid double (64-bit floating point)`),
    );
  }
  if (timestamp === undefined || timestamp < 0) {
    throw new TrackingInvalidError(
      invalidValue(join(prefix, 'timestamp'), rawTimestamp ?? null, `metric '${key}' (value=${value}). Timestamp must be a nonnegative long (64-bit integer) `),
    );
  }
  lengthLimit('Metric name', MAX_ENTITY_KEY_LENGTH, key, false);
  return { key, value, timestamp, step };
}

export function validateParam(key: unknown, value: unknown, prefix = ''): { key: string; value: string } {
  const keyPath = join(prefix, 'key');
  if (key === undefined || key === null || key === '') throw new TrackingInvalidError(invalidValue(keyPath, '', MISSING_KEY));
  if (typeof key !== 'string') throw new TrackingInvalidError(invalidValue(keyPath, key, BAD_CHARACTERS));
  checkName(key, keyPath);
  const v = value === undefined || value === null ? '' : typeof value === 'string' ? value : String(value);
  noNul(join(prefix, 'value'), v);
  return { key: lengthLimit('Param key', MAX_ENTITY_KEY_LENGTH, key, false), value: lengthLimit('Param value', MAX_PARAM_VAL_LENGTH, v, true) };
}

export function validateTag(key: unknown, value: unknown, prefix = ''): { key: string; value: string } {
  const keyPath = join(prefix, 'key');
  if (key === undefined || key === null || key === '') throw new TrackingInvalidError(`Missing value for required parameter '${keyPath}'.`);
  if (typeof key !== 'string') throw new TrackingInvalidError(invalidValue(keyPath, key, BAD_CHARACTERS));
  checkName(key, keyPath);
  const v = value === undefined || value === null ? '' : typeof value === 'string' ? value : String(value);
  noNul(join(prefix, 'value'), v);
  return { key: lengthLimit(keyPath, MAX_ENTITY_KEY_LENGTH, key, false), value: lengthLimit(join(prefix, 'value'), MAX_TAG_VAL_LENGTH, v, true) };
}

export function validateExperimentTag(key: unknown, value: unknown): { key: string; value: string } {
  if (key === undefined || key === null || key === '') throw new TrackingInvalidError(`Missing value for required parameter 'key'.`);
  if (typeof key !== 'string') throw new TrackingInvalidError(invalidValue('key', key, BAD_CHARACTERS));
  checkName(key, 'key');
  const v = value === undefined || value === null ? '' : String(value);
  noNul('value', v);
  lengthLimit('key', MAX_EXPERIMENT_TAG_KEY_LENGTH, key, false);
  lengthLimit('value', MAX_EXPERIMENT_TAG_VAL_LENGTH, v, false);
  return { key, value: v };
}

function batchLimit(entity: string, limit: number, length: number): void {
  if (length > limit) {
    throw new TrackingInvalidError(
      `A batch logging request can contain at most ${limit} ${entity}. Got ${length} ${entity}. Please split up ${entity} across multiple requests and try again.`,
    );
  }
}

export function validateBatchLimits(metrics: number, params: number, tags: number): void {
  batchLimit('metrics', MAX_METRICS_PER_BATCH, metrics);
  batchLimit('params', MAX_PARAMS_TAGS_PER_BATCH, params);
  batchLimit('tags', MAX_PARAMS_TAGS_PER_BATCH, tags);
  batchLimit('metrics, params, and tags', MAX_ENTITIES_PER_BATCH, metrics + params + tags);
}

export function validateParamKeysUnique(params: Array<{ key: string }>): void {
  const seen = new Set<string>();
  const dupes: string[] = [];
  for (const p of params) {
    if (seen.has(p.key)) dupes.push(p.key);
    seen.add(p.key);
  }
  if (dupes.length) {
    throw new TrackingInvalidError(
      `Duplicate parameter keys have been submitted: [${dupes.map(pyRepr).join(', ')}]. Please ensure the request contains only one param value per param key.`,
    );
  }
}

export function validateRunId(runId: string, path = 'run_id'): void {
  if (!RUN_ID.test(runId)) throw new TrackingInvalidError(invalidValue(path, runId));
}

/** Experiment ids are Alidade's integer ids (and MLflow's 0). */
export function parseExperimentId(raw: string): number {
  if (!/^\d{1,10}$/.test(raw) || Number(raw) > 2147483647) {
    throw new TrackingInvalidError(`Invalid experiment ID '${raw}'. Experiment ID must be a valid integer.`);
  }
  return Number(raw);
}

export function validateExperimentName(name: string): void {
  if (name.length > MAX_EXPERIMENT_NAME_LENGTH) throw new TrackingInvalidError(`'name' exceeds the maximum length of ${MAX_EXPERIMENT_NAME_LENGTH} characters`);
}

export { pyRepr };
