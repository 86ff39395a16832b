/**
 * Hostile input, refused by class before any work (API.md §1 "No input gives a 5xx"). Each class has one place:
 *
 * - **Text** (NUL, lone surrogates, invalid UTF-8): the raw URL — path segments and query pairs — in `rawUrlGuard`
 *   (the first middleware); raw JSON/urlencoded/text bodies in `verifyRawBody` (body-parser's `verify` hook); the
 *   parsed values that reach a handler — JSON bodies, multipart field names and values, queries, path parameters —
 *   in `assertCleanText`, which the global pipe (AppValidationPipe) runs on every argument.
 * - **JSON nesting**: `verifyRawBody` pre-scans the raw bytes (depth ≤ MAX_JSON_DEPTH) before JSON.parse runs;
 *   JSON carried inside a form field or a text body is read with `parseJsonInput`, which does the same.
 * - **Body size**: JSON_BODY_LIMIT for the JSON/urlencoded parsers; a 413 names the limit that was exceeded.
 * - **Multipart field names**: `MULTIPART_FIELD_LIMITS` (no bracket nesting, short names) for every multer use.
 *
 * Integers in paths are IntParamPipe (common/validation.ts); the error filter maps the database's own data
 * exceptions (SQLSTATE class 22, 54000) to 400 as a backstop.
 * Errors are DomainErrors (VALIDATION_FAILED with details.fields), so every face renders them in its own body.
 */
import { isUtf8 } from 'node:buffer';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import { ValidationFailedError } from './errors/domain-error';

/** Deepest JSON nesting (objects and arrays) accepted anywhere in a request. */
export const MAX_JSON_DEPTH = 64;
/** JSON and urlencoded request bodies: 1 MiB (MLflow's documented log-batch limit is 1 MB). */
export const JSON_BODY_LIMIT = 1024 * 1024;
/** Multer limits every multipart route shares: field names are plain (no `a[b]` nesting), short and few. */
export const MULTIPART_FIELD_LIMITS = { fieldNameSize: 200, fieldNestingDepth: 0, fieldArrayIndexLimit: 0 } as const;

// ES2024 string methods (Node 20 has them; the TS lib here is ES2023).
const isWellFormed = (s: string): boolean => (s as unknown as { isWellFormed(): boolean }).isWellFormed();
const toWellFormed = (s: string): string => (s as unknown as { toWellFormed(): string }).toWellFormed();

function fail(field: string, reason: string): never {
  const message = `${field} ${reason}`;
  throw new ValidationFailedError({ [field]: [message] }, message);
}

/** A field name fit for an error message: control characters and odd code points escaped. */
function printable(name: string): string {
  const json = JSON.stringify(toWellFormed(name)).slice(1, -1);
  return json === '' ? '(empty name)' : json;
}

/**
 * The reason a string cannot be stored as text, or null. `decodedWithReplacement`: the text was decoded by a parser
 * that turns invalid UTF-8 into U+FFFD (busboy, for multipart), so U+FFFD there means the client sent invalid UTF-8.
 */
export function badTextReason(s: string, decodedWithReplacement = false): string | null {
  if (s.includes('\u0000')) return 'must not contain NUL characters';
  if (!isWellFormed(s)) return 'must be valid Unicode text (it holds a lone surrogate)';
  if (decodedWithReplacement && s.includes('\uFFFD')) return 'must be valid UTF-8';
  return null;
}

/**
 * Every string in `value` (keys included, to MAX_JSON_DEPTH levels) is storable text, else VALIDATION_FAILED naming
 * the field by its path (`labels[2]`, `tags[0].key`). Multer builds its body with `Object.create(null)`: that is how
 * a multipart body is told apart (its text was decoded with replacement characters).
 */
export function assertCleanText(value: unknown, field: string, depth = 0, multipart = false): void {
  if (typeof value === 'string') {
    const reason = badTextReason(value, multipart);
    if (reason) fail(field || 'value', reason);
    return;
  }
  if (typeof value !== 'object' || value === null || Buffer.isBuffer(value)) return;
  if (depth > MAX_JSON_DEPTH) fail(field || 'body', `is nested more than ${MAX_JSON_DEPTH} levels deep`);
  const isMultipart = multipart || (depth === 0 && Object.getPrototypeOf(value) === null);
  if (Array.isArray(value)) {
    value.forEach((item, i) => assertCleanText(item, `${field}[${i}]`, depth + 1, isMultipart));
    return;
  }
  for (const [key, item] of Object.entries(value)) {
    const path = field ? `${field}.${printable(key)}` : printable(key);
    const keyReason = badTextReason(key, isMultipart);
    if (keyReason) fail(path, `is not an accepted field name: a field name ${keyReason}`);
    assertCleanText(item, path, depth + 1, isMultipart);
  }
}

/** True when JSON text nests objects/arrays deeper than `max` (strings skipped). Linear, no allocation. */
export function jsonNestsDeeperThan(text: Buffer | string, max = MAX_JSON_DEPTH): boolean {
  const at = typeof text === 'string' ? (i: number) => text.charCodeAt(i) : (i: number) => text[i];
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = at(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

/**
 * JSON that arrived inside a form field or a text body: depth-checked before parsing, its strings checked after.
 * Throws `invalid(reason)` (the caller's domain error) when it is not JSON; VALIDATION_FAILED for bad text or depth.
 */
export function parseJsonInput(text: string, field: string, invalid: (reason: string) => Error): unknown {
  if (jsonNestsDeeperThan(text)) fail(field, `is JSON nested more than ${MAX_JSON_DEPTH} levels deep`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw invalid(`${field} is not valid JSON`);
  }
  assertCleanText(parsed, field);
  return parsed;
}

/** Decodes one `application/x-www-form-urlencoded` component, or null when its percent-encoding is not UTF-8. */
function decodeComponent(raw: string): string | null {
  if (!raw.includes('%') && !raw.includes('+')) return raw;
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    return null;
  }
}

/** Every `name=value` pair of a query string or urlencoded body decodes to clean text, else VALIDATION_FAILED. */
export function assertCleanUrlEncoded(text: string): void {
  if (text === '') return;
  for (const pair of text.split('&')) {
    const eq = pair.indexOf('=');
    const rawName = eq < 0 ? pair : pair.slice(0, eq);
    const name = decodeComponent(rawName);
    if (name === null) fail(printable(rawName), 'is not an accepted parameter name: its percent-encoding is not valid UTF-8');
    const nameReason = badTextReason(name);
    if (nameReason) fail(printable(name), `is not an accepted parameter name: a name ${nameReason}`);
    if (eq < 0) continue;
    const value = decodeComponent(pair.slice(eq + 1));
    if (value === null) fail(printable(name), 'must be valid UTF-8 (its percent-encoding is not)');
    const reason = badTextReason(value);
    if (reason) fail(printable(name), reason);
  }
}

const ARTIFACT_PROXY = '/api/2.0/mlflow-artifacts/';

/** First middleware: the raw path's segments and the query's pairs decode to clean text. */
export function rawUrlGuard(req: Request, _res: Response, next: NextFunction): void {
  try {
    const url = req.url;
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    // The artifact proxy checks its own paths (NUL, `..`, backslashes) with MLflow's exact "Invalid path" reply.
    if (path.includes('%') && !path.startsWith(ARTIFACT_PROXY)) {
      for (const segment of path.split('/')) {
        const decoded = decodeComponentStrict(segment);
        if (decoded === null) fail('path', `segment '${segment}' is not valid percent-encoded UTF-8`);
        const reason = badTextReason(decoded);
        if (reason) fail('path', `segment '${segment}' ${reason}`);
      }
    }
    if (q >= 0) assertCleanUrlEncoded(url.slice(q + 1));
    next();
  } catch (e) {
    next(e);
  }
}

/** A path segment: `+` is a literal plus there. */
function decodeComponentStrict(raw: string): string | null {
  if (!raw.includes('%')) return raw;
  try {
    return decodeURIComponent(raw);
  } catch {
    return null;
  }
}

/**
 * body-parser's `verify` hook, for JSON, urlencoded and text bodies: runs on the raw bytes before parsing. Invalid
 * UTF-8 and JSON nested deeper than MAX_JSON_DEPTH are refused here, so JSON.parse never sees them.
 */
export function verifyRawBody(req: IncomingMessage, _res: ServerResponse, buf: Buffer): void {
  if (!isUtf8(buf)) fail('body', 'must be valid UTF-8');
  const type = String(req.headers['content-type'] ?? '').toLowerCase();
  if (type.includes('x-www-form-urlencoded')) {
    assertCleanUrlEncoded(buf.toString('latin1'));
    return;
  }
  if (jsonNestsDeeperThan(buf)) fail('body', `is JSON nested more than ${MAX_JSON_DEPTH} levels deep`);
}
