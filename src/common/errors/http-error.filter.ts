import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Inject, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Request, Response } from 'express';
import { QueryFailedError } from 'typeorm';
import {
  DomainError,
  MethodNotAllowedError,
  PayloadTooLargeError,
  RouteNotFoundError,
  ServiceUnavailableError,
  TooManyRequestsError,
  ValidationFailedError,
} from './domain-error';
import { JSON_BODY_LIMIT } from '../input-guards';
import { ERROR_FACES, ErrorFace } from './error-face';
import { RouteIndex } from './route-index';
import { reasonPhrase, V1_STATUS, V1_VALIDATION_CODES } from './v1-error-table';

const CONNECTION_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', '57P01', '57P02', '57P03', '08000', '08003', '08006']);

/**
 * The one place where errors become HTTP replies: domain errors through the face that serves the path (or the v1
 * table), framework errors translated to domain codes first, anything unknown → 500 with an errorId that is logged
 * with the stack.
 */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpErrorFilter');

  constructor(
    private readonly routes: RouteIndex,
    @Inject(ERROR_FACES) private readonly faces: ErrorFace[],
  ) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const req = ctx.getRequest<Request>();
    const res = ctx.getResponse<Response>();
    if (res.headersSent) {
      // A streamed reply failed midway: all we can do is end it.
      this.logger.error(`error after headers were sent on ${req.method} ${req.path}: ${String(exception)}`);
      res.end();
      return;
    }
    if (exception instanceof HttpException && exception.getStatus() === HttpStatus.SERVICE_UNAVAILABLE) {
      // Terminus readiness failures carry their own report body.
      res.status(HttpStatus.SERVICE_UNAVAILABLE).json(exception.getResponse());
      return;
    }
    const error = this.toDomainError(exception, req);
    if (error.code === 'INTERNAL') {
      const errorId = randomUUID();
      this.logger.error(`errorId=${errorId} ${req.method} ${req.path}`, exception instanceof Error ? exception.stack : String(exception));
      error.details = { errorId };
    }
    if (error.code === 'METHOD_NOT_ALLOWED') res.setHeader('Allow', ((error.details?.allowed as string[]) ?? []).join(', '));
    const face = this.faces.find((f) => f.matches(req.path));
    if (face) {
      const { status, body } = face.render(error, { method: req.method, path: req.path });
      if (error.code === 'INTERNAL') body.errorId = error.details?.errorId;
      res.status(status).json(body);
      return;
    }
    const status = V1_STATUS[error.code];
    res.status(status).json({
      statusCode: status,
      error: reasonPhrase(status),
      code: V1_VALIDATION_CODES.has(error.code) ? 'VALIDATION_FAILED' : error.code,
      message: error.message,
      ...(error.code === 'INTERNAL' ? { errorId: error.details?.errorId } : error.details ? { details: error.details } : {}),
    });
  }

  private toDomainError(exception: unknown, req: Request): DomainError & { details?: Record<string, unknown> } {
    if (exception instanceof DomainError) return exception;
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      if (status === HttpStatus.NOT_FOUND && /^Cannot [A-Z]+ /.test(String(exception.message))) {
        const allowed = this.routes.allowedMethods(req.path);
        if (allowed.length > 0) return new MethodNotAllowedError(req.method, req.path, allowed);
        return new RouteNotFoundError(req.method, req.path);
      }
      if (status === HttpStatus.PAYLOAD_TOO_LARGE) return new PayloadTooLargeError(limitOf(exception) ?? JSON_BODY_LIMIT, 'request body');
      if (status === HttpStatus.TOO_MANY_REQUESTS) return new TooManyRequestsError();
      if (status === HttpStatus.BAD_REQUEST) {
        const message = `Malformed request: ${firstMessage(exception)}`;
        return new ValidationFailedError({ request: [message] }, message);
      }
      // Anything else the framework raises on its own is unexpected: treat as internal.
      return internal();
    }
    if (isBodyParserError(exception)) {
      if (exception.status === 413) return new PayloadTooLargeError(limitOf(exception) ?? JSON_BODY_LIMIT, 'request body');
      const message = `Malformed request body: ${exception.message}`;
      return new ValidationFailedError({ body: [message] }, message);
    }
    if (isConnectionError(exception)) return new ServiceUnavailableError();
    const data = dataException(exception);
    if (data) {
      // A backstop: input that slipped past the guards (common/input-guards.ts) and that the database refused.
      this.logger.warn(`database refused a value on ${req.method} ${req.path}: ${data}`);
      return new ValidationFailedError({ request: [data] }, `The request holds a value the database cannot store: ${data}`);
    }
    return internal();
  }
}

/** The limit a body parser (body-parser's `limit`) or multer reported, in bytes. */
function limitOf(e: unknown): number | undefined {
  const limit = (e as { limit?: unknown }).limit;
  return typeof limit === 'number' && limit > 0 ? limit : undefined;
}

/**
 * Postgres's data exceptions (SQLSTATE class 22: out-of-range numbers, untranslatable characters, invalid text for a
 * type, ...) and 54000 (a value too large for an index row): caused by a value in the request, so a 400, not a 500.
 */
function dataException(e: unknown): string | null {
  if (!(e instanceof QueryFailedError)) return null;
  const code = (e as { driverError?: { code?: string } }).driverError?.code ?? '';
  if (!code.startsWith('22') && code !== '54000') return null;
  return e.message;
}

function internal(): DomainError {
  return new DomainError('INTERNAL', 'Internal Server Error');
}

function firstMessage(e: HttpException): string {
  const r = e.getResponse();
  if (typeof r === 'string') return r;
  const m = (r as { message?: unknown }).message;
  return Array.isArray(m) ? m.join('; ') : String(m ?? e.message);
}

function isBodyParserError(e: unknown): e is { status: number; message: string; type: string } {
  return typeof e === 'object' && e !== null && typeof (e as { type?: unknown }).type === 'string' && typeof (e as { status?: unknown }).status === 'number';
}

export function isConnectionError(e: unknown): boolean {
  if (typeof e !== 'object' || e === null) return false;
  const err = e as { code?: string; driverError?: { code?: string }; message?: string; name?: string };
  if (err.code && CONNECTION_ERRORS.has(err.code)) return true;
  if (e instanceof QueryFailedError && err.driverError?.code && CONNECTION_ERRORS.has(err.driverError.code)) return true;
  const msg = err.message ?? '';
  return (
    /Connection terminated|connect ECONNREFUSED|Connection is closed|timeout exceeded when trying to connect|the database system is (starting up|shutting down)|terminating connection/.test(
      msg,
    ) || err.name === 'MaxRetriesPerRequestError'
  );
}
