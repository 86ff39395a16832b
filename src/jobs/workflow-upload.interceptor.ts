import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { Request, RequestHandler, Response } from 'express';
import multer, { MulterError } from 'multer';
import { Observable } from 'rxjs';
import { PayloadTooLargeError } from '../common/errors/domain-error';
import { MULTIPART_FIELD_LIMITS } from '../common/input-guards';
import { spoolStorage, withUploadSpool } from '../common/upload-spool';
import { AppConfig } from '../config/config';
import { JobSubmissionInvalidError } from './jobs.errors';

const FIELD_BYTES = 1024 * 1024;

/**
 * Reads a job submission's multipart body (both faces): the archive in the file part `workflow`, spooled to a file
 * in the request's own 0700 directory (removed when the request is done) and bounded by MAX_WORKFLOW_BYTES, plus a
 * few bounded text fields. Multer drains the rest of an oversized body before we answer, so the client reads our
 * 413 instead of a broken pipe.
 */
@Injectable()
export class WorkflowUploadInterceptor implements NestInterceptor {
  private readonly upload: RequestHandler;

  constructor(private readonly config: AppConfig) {
    this.upload = multer({
      storage: spoolStorage(),
      defParamCharset: 'utf8',
      limits: { fileSize: config.maxWorkflowBytes, files: 1, fields: 32, parts: 40, fieldSize: FIELD_BYTES, ...MULTIPART_FIELD_LIMITS },
    }).single('workflow');
  }

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    const http = context.switchToHttp();
    const req = http.getRequest<Request>();
    const res = http.getResponse<Response>();
    return withUploadSpool(context, this.config.uploadTmpdir, async () => {
      await new Promise<void>((resolve, reject) => {
        this.upload(req, res, (err?: unknown) => (err ? reject(this.translate(err)) : resolve()));
      });
      return next.handle();
    });
  }

  private translate(err: unknown): Error {
    if (err instanceof MulterError) {
      switch (err.code) {
        case 'LIMIT_FILE_SIZE':
          return new PayloadTooLargeError(this.config.maxWorkflowBytes, 'workflow file');
        case 'LIMIT_UNEXPECTED_FILE':
        case 'LIMIT_FILE_COUNT':
          return new JobSubmissionInvalidError(`unexpected file field '${err.field ?? ''}': send one archive in the file field 'workflow'`);
        case 'LIMIT_FIELD_VALUE':
          return new JobSubmissionInvalidError(`form field '${err.field ?? ''}' is longer than ${FIELD_BYTES} bytes`);
        default:
          return new JobSubmissionInvalidError(`malformed upload form: ${err.message}`);
      }
    }
    return new JobSubmissionInvalidError(`malformed multipart body: ${err instanceof Error ? err.message : String(err)}`);
  }
}
