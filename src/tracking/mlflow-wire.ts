// Reading MLflow's proto-JSON requests (reference §2) with the server's own messages for bad input
// (mlflow/server/handlers.py _validate_param_against_schema). Pure functions: the face's controllers call them.
import { TrackingInvalidError, MissingParameterError } from './tracking.errors';

export type Message = Record<string, unknown>;

const SEE_DOCS = ' See the API docs for more information about request parameters.';

function pyTypeName(v: unknown): string {
  if (v === null) return 'NoneType';
  if (Array.isArray(v)) return 'list';
  if (typeof v === 'string') return 'str';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  return 'dict';
}

/** MLflow's invalid_value(): `Invalid value <json> for parameter '<path>' supplied[: <message>]`. */
export function invalidValue(path: string, value: unknown, message?: string): string {
  const json = pyJson(value);
  return message ? `Invalid value ${json} for parameter '${path}' supplied: ${message}` : `Invalid value ${json} for parameter '${path}' supplied.`;
}

/** json.dumps(value, sort_keys=True, separators=(",", ":")). */
function pyJson(value: unknown): string {
  if (value === undefined) return 'null';
  if (typeof value === 'number' && !Number.isFinite(value)) return Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity';
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const o = value as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${pyJson(o[k])}`)
      .join(',')}}`;
  }
  if (Array.isArray(value)) return `[${value.map(pyJson).join(',')}]`;
  return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function typeError(path: string, value: unknown): TrackingInvalidError {
  return new TrackingInvalidError(invalidValue(path, value, ` Hint: Value was of type '${pyTypeName(value)}'.`) + SEE_DOCS);
}

/** A GET query value: the last of repeated keys. */
function scalar(v: unknown): unknown {
  return Array.isArray(v) ? v[v.length - 1] : v;
}

export function optString(msg: Message, field: string): string | undefined {
  const v = scalar(msg[field]);
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw typeError(field, v);
  if (v.includes('\u0000')) throw nulError(field, v);
  return v;
}

function nulError(field: string, v: unknown): TrackingInvalidError {
  return new TrackingInvalidError(invalidValue(field, v, 'NUL characters are not allowed.'));
}

export function reqString(msg: Message, field: string): string {
  const v = optString(msg, field);
  if (v === undefined || v === '') throw new MissingParameterError(field);
  return v;
}

/** run_id, or run_uuid (clients send both; MLflow takes `run_id or run_uuid`). */
export function runIdOf(msg: Message): string {
  const id = optString(msg, 'run_id') || optString(msg, 'run_uuid');
  if (!id) throw new MissingParameterError('run_id');
  return id;
}

/** An int64 field: a JSON number without fraction or a numeric string (proto JSON allows both). */
export function optInt64(msg: Message, field: string): number | undefined {
  const v = scalar(msg[field]);
  if (v === undefined || v === null || v === '') return undefined;
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n)) throw typeError(field, v);
  return n;
}

/** A double: a number, or the strings "NaN", "Infinity", "-Infinity" (and numeric strings, as proto JSON allows). */
export function parseDouble(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v !== 'string') return undefined;
  if (v === 'NaN') return NaN;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  if (/^\s*-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/.test(v)) return Number(v);
  return undefined;
}

export function optArray(msg: Message, field: string): unknown[] {
  const v = msg[field];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw typeError(field, v);
  return v;
}

/** Repeated string fields: a GET query gives one string or an array. */
export function stringList(msg: Message, field: string): string[] {
  const v = msg[field];
  if (v === undefined || v === null) return [];
  const list = Array.isArray(v) ? v : typeof v === 'string' ? [v] : null;
  if (!list || !list.every((x) => typeof x === 'string')) throw typeError(field, v);
  if (list.some((x) => (x as string).includes('\u0000'))) throw nulError(field, v);
  return list as string[];
}

/** `[{key, value}]` entries of a repeated KeyValue field. */
export function keyValues(msg: Message, field: string): Array<{ key: unknown; value: unknown }> {
  return optArray(msg, field).map((e) => (e !== null && typeof e === 'object' && !Array.isArray(e) ? (e as { key: unknown; value: unknown }) : { key: undefined, value: undefined }));
}

export function asMessage(body: unknown): Message {
  if (body === undefined || body === null || body === '') return {};
  if (typeof body !== 'object' || Array.isArray(body)) throw new TrackingInvalidError('Malformed request body: expected a JSON object');
  return body as Message;
}

/** Output: an int64 as a JSON number while exact, else as a string (the client accepts both). */
export function int64Out(v: string | number | null | undefined): number | string | undefined {
  if (v === null || v === undefined) return undefined;
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : String(v);
}

/** Output: a double, with non-finite values as proto JSON's strings (JSON.stringify would give null, read as 0.0). */
export function doubleOut(v: number): number | string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  return v;
}
