/**
 * Shared plumbing of the Dioptra face (reference/dioptra-v0-api.md §1), for every Dioptra controller — experiments,
 * queues, jobs and task plugins alike:
 *
 * - `@DioptraId()`: the `:id` path parameter, non-negative integers only, as Flask's `int` converter; anything else
 *   (`abc`, `-1`, `1.5`) is "no such route" → JSON 404 with "Not Found" in the message, never 400/500.
 * - `readDioptraBody(body, allowed, invalid, files?)`: one function for both wire spellings. A JSON body (parsed
 *   whatever its Content-Type, as flask-accepts forces JSON), a urlencoded form or a multipart form (run
 *   `DioptraFormInterceptor` or another multer interceptor on the route) all come out as one plain record; a key
 *   outside `allowed` (file parts included) or a body that is not an object → `invalid(reason)`, which the caller
 *   makes its resource's registration/submission error. Declare the handler parameter as `@Body() body: unknown` so
 *   the global ValidationPipe (which forbids unknown fields) leaves it alone.
 * - `dioptraTextBody`: middleware (DioptraModule applies it to every Dioptra controller) that reads bodies the
 *   JSON/urlencoded parsers skipped — text/plain or no Content-Type — as text for readDioptraBody to JSON-parse.
 *   Multipart bodies are left to multer.
 * - `DioptraFieldMaskInterceptor`: the Flask-RESTX `X-Fields` header (`name,experimentId` or `{name,experimentId}`,
 *   nesting with braces, `*` for the rest) trims object and list replies; a mask that does not parse → 400.
 */
import { CallHandler, createParamDecorator, ExecutionContext, HttpException, HttpStatus, Injectable, NestInterceptor } from '@nestjs/common';
import { AnyFilesInterceptor } from '@nestjs/platform-express';
import { ApiParam } from '@nestjs/swagger';
import { text } from 'express';
import type { Request } from 'express';
import { map, Observable } from 'rxjs';
import { DomainError, PayloadTooLargeError, RouteNotFoundError, ValidationFailedError } from '../common/errors/domain-error';
import { JSON_BODY_LIMIT, MULTIPART_FIELD_LIMITS, parseJsonInput, verifyRawBody } from '../common/input-guards';

/**
 * `@DioptraId()`: the `:id` path parameter as a number, for non-negative integers only (Flask's `int` converter);
 * anything else (`abc`, `-1`, `1.5`, `0x1`) matches no route → JSON 404. A parameter decorator rather than a pipe:
 * the global ValidationPipe would first turn `0x1` into 1 and `abc` into NaN.
 */
export const DioptraId = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): number => {
    const req = ctx.switchToHttp().getRequest<Request>();
    const value = req.params.id;
    if (typeof value !== 'string' || !/^\d+$/.test(value)) throw new RouteNotFoundError(req.method, req.path);
    return Number(value);
  },
  [
    (target: object, key?: string | symbol) => {
      ApiParam({ name: 'id', type: Number, description: 'a non-negative integer; anything else is no route (404)' })(target, key!, Object.getOwnPropertyDescriptor(target, key!)!);
    },
  ],
);

const FORM_LIMITS = { fields: 50, fieldSize: 64 * 1024, files: 10, fileSize: 64 * 1024, ...MULTIPART_FIELD_LIMITS };
const FormMultipart = AnyFilesInterceptor({ limits: FORM_LIMITS });

/** Multer for Dioptra's small forms (experiment and queue registration): fields in memory, tiny bounds. */
@Injectable()
export class DioptraFormInterceptor implements NestInterceptor {
  private readonly multipart = new FormMultipart();

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    try {
      return await this.multipart.intercept(context, next);
    } catch (e) {
      // Nest's multer errors carry no limit: name ours.
      if (e instanceof HttpException && e.getStatus() === HttpStatus.PAYLOAD_TOO_LARGE) throw new PayloadTooLargeError(FORM_LIMITS.fileSize, 'form file');
      throw e;
    }
  }
}

/** Reads what the JSON/urlencoded parsers skipped (text/plain, no Content-Type) as text; never multipart. */
export const dioptraTextBody = text({
  type: (req) => !String(req.headers['content-type'] ?? '').toLowerCase().startsWith('multipart/'),
  limit: JSON_BODY_LIMIT,
  verify: verifyRawBody,
});

/**
 * A Dioptra request body as one record, whatever its spelling (JSON, urlencoded, multipart). Unknown keys, file parts
 * not in `allowed`, or a body that is not an object → `invalid(reason)`.
 */
export function readDioptraBody(
  body: unknown,
  allowed: readonly string[],
  invalid: (reason: string) => DomainError,
  files: ReadonlyArray<{ fieldname: string }> = [],
): Record<string, unknown> {
  let data: unknown = Buffer.isBuffer(body) ? body.toString('utf8') : body;
  if (typeof data === 'string') data = parseJsonText(data, invalid);
  if (data === undefined || data === null) data = {};
  if (typeof data !== 'object' || Array.isArray(data)) throw invalid('the request body must be a JSON object or a form');
  let record = data as Record<string, unknown>;
  const keys = Object.keys(record);
  // JSON sent with a urlencoded Content-Type arrives as a single key with an empty value.
  if (keys.length === 1 && record[keys[0]] === '' && keys[0].trimStart().startsWith('{')) {
    const parsed = parseJsonText(keys[0], invalid);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw invalid('the request body must be a JSON object or a form');
    record = parsed as Record<string, unknown>;
  }
  const unknown = [...Object.keys(record), ...files.map((f) => f.fieldname)].filter((k) => !allowed.includes(k));
  if (unknown.length > 0) throw invalid(`unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => JSON.stringify(k)).join(', ')}; accepted: ${allowed.join(', ')}`);
  return { ...record };
}

function parseJsonText(textBody: string, invalid: (reason: string) => DomainError): unknown {
  const trimmed = textBody.trim();
  if (trimmed === '') return {};
  return parseJsonInput(trimmed, 'body', () => invalid('the request body is neither valid JSON nor a form'));
}

// ---- X-Fields (Flask-RESTX field masks) ----

/** A parsed mask: field → true, or a nested mask. */
export type FieldMask = Map<string, true | FieldMask>;

export class FieldMaskParseError extends Error {}

/** Bounds on a mask, so a header cannot multiply the work of a reply (Flask-RESTX has none; real masks are tiny). */
export const FIELD_MASK_LIMITS = { length: 1024, depth: 8, fields: 128 } as const;

/** Parses Flask-RESTX's mask syntax: `a,b{c,d},*`, optionally wrapped in braces. */
export function parseFieldMask(source: string): FieldMask | null {
  let mask = source.replace(/\n/g, '').trim();
  if (mask === '') return null;
  if (mask.length > FIELD_MASK_LIMITS.length) throw new FieldMaskParseError(`the mask is longer than ${FIELD_MASK_LIMITS.length} characters`);
  if (mask.startsWith('{')) {
    if (!mask.endsWith('}')) throw new FieldMaskParseError('Missing closing bracket');
    mask = mask.slice(1, -1);
  }
  const root: FieldMask = new Map();
  let fields = root;
  let previous: string | null = null;
  const stack: FieldMask[] = [];
  let count = 0;
  for (const token of mask.match(/\{|\}|,|[\w:*-]+/g) ?? []) {
    if (token === '{') {
      if (previous === null || !fields.has(previous)) throw new FieldMaskParseError('Unexpected opening bracket');
      if (stack.length >= FIELD_MASK_LIMITS.depth) throw new FieldMaskParseError(`the mask nests more than ${FIELD_MASK_LIMITS.depth} levels deep`);
      const nested: FieldMask = new Map();
      fields.set(previous, nested);
      stack.push(fields);
      fields = nested;
    } else if (token === '}') {
      const parent = stack.pop();
      if (!parent) throw new FieldMaskParseError('Unexpected closing bracket');
      fields = parent;
    } else if (token !== ',') {
      if (++count > FIELD_MASK_LIMITS.fields) throw new FieldMaskParseError(`the mask names more than ${FIELD_MASK_LIMITS.fields} fields`);
      fields.set(token, true);
      previous = token;
    }
  }
  if (stack.length > 0) throw new FieldMaskParseError('Missing closing bracket');
  return root;
}

/** Applies a mask as Flask-RESTX does: listed keys (null when absent), nested masks recursively, `*` keeps the rest. */
export function applyFieldMask(data: unknown, mask: FieldMask): unknown {
  if (Array.isArray(data)) return data.map((item) => applyFieldMask(item, mask));
  if (typeof data !== 'object' || data === null) return data;
  const source = data as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [field, content] of mask) {
    if (field === '*') continue;
    const value = source[field];
    out[field] = content === true || value === undefined || value === null ? (value ?? null) : applyFieldMask(value, content);
  }
  if (mask.has('*')) for (const [k, v] of Object.entries(source)) if (!(k in out)) out[k] = v;
  return out;
}

/** Trims replies to the `X-Fields` request header's mask. */
@Injectable()
export class DioptraFieldMaskInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const header = context.switchToHttp().getRequest<Request>().headers['x-fields'];
    const source = Array.isArray(header) ? header.join(',') : header;
    if (source === undefined) return next.handle();
    let mask: FieldMask | null;
    try {
      mask = parseFieldMask(source);
    } catch (e) {
      const reason = `Mask parse error: ${(e as Error).message}`;
      throw new ValidationFailedError({ 'X-Fields': [reason] }, reason);
    }
    if (!mask) return next.handle();
    const m = mask;
    return next.handle().pipe(map((data: unknown) => applyFieldMask(data, m)));
  }
}
