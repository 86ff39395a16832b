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
import { ERROR_FACES, ErrorFace } from './error-face';
import { RouteIndex } from './route-index';
import { reasonPhrase, V1_STATUS } from './v1-error-table';

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
      const { status, body } = face.render(error);
      if (error.code === 'INTERNAL') body.errorId = error.details?.errorId;
      res.status(status).json(body);
      return;
    }
    const status = V1_STATUS[error.code];
    res.status(status).json({
      statusCode: status,
      error: reasonPhrase(status),
      code: error.code,
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
      if (status === HttpStatus.PAYLOAD_TOO_LARGE) return new PayloadTooLargeError(0, 'request body');
      if (status === HttpStatus.TOO_MANY_REQUESTS) return new TooManyRequestsError();
      if (status === HttpStatus.BAD_REQUEST) {
        return new ValidationFailedError({}, `Malformed request: ${firstMessage(exception)}`);
      }
      // Anything else the framework raises on its own is unexpected: treat as internal.
      return internal();
    }
    if (isBodyParserError(exception)) {
      if (exception.status === 413) return new PayloadTooLargeError((exception as { limit?: number }).limit ?? 0, 'request body');
      return new ValidationFailedError({}, `Malformed request body: ${exception.message}`);
    }
    if (isConnectionError(exception)) return new ServiceUnavailableError();
    return internal();
  }
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
