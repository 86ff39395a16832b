import { CallHandler, ExecutionContext, HttpException, HttpStatus, Injectable, mixin, NestInterceptor, Type } from '@nestjs/common';
import { AnyFilesInterceptor } from '@nestjs/platform-express';
import type { Request } from 'express';
import { Observable } from 'rxjs';
import { PayloadTooLargeError } from '../common/errors/domain-error';
import { MULTIPART_FIELD_LIMITS } from '../common/input-guards';
import { spoolStorage, withUploadSpool } from '../common/upload-spool';
import { AppConfig } from '../config/config';
import { TaskPluginUploadInvalidError } from './task-plugins.errors';

/** What multer's disk storage puts in `req.files`: the archive spooled to a file, removed after the request. */
export interface UploadedFile {
  fieldname: string;
  originalname: string;
  path: string;
  size: number;
}

/**
 * Multipart parsing for plugin uploads, spooled to disk (common/upload-spool), bounded by MAX_PLUGIN_BYTES (read from AppConfig at runtime, which a static
 * FileInterceptor option cannot do). Accepts one file, in one of `fileFields`; puts it in `req.files`.
 * Multer's failures become domain errors: too large → 413, anything else malformed → TASK_PLUGIN_UPLOAD_INVALID,
 * so the Dioptra face answers with TaskPluginUploadError rather than a generic 400.
 */
export function TaskPluginUploadInterceptor(fileFields: readonly string[]): Type<NestInterceptor> {
  // Nest's own multipart handling, built here rather than injected: its limits come from the config at runtime.
  const Multipart = AnyFilesInterceptor();

  @Injectable()
  class Interceptor implements NestInterceptor {
    private readonly multipart: NestInterceptor;

    constructor(private readonly config: AppConfig) {
      this.multipart = new Multipart({ storage: spoolStorage(), limits: { fileSize: config.maxPluginBytes, files: 1, fields: 20, fieldSize: 64 * 1024, parts: 30, ...MULTIPART_FIELD_LIMITS } });
    }

    intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
      return withUploadSpool(context, this.config.uploadTmpdir, () => this.parse(context, next));
    }

    private async parse(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
      let handled: Observable<unknown>;
      try {
        handled = await this.multipart.intercept(context, next);
      } catch (e) {
        if (e instanceof HttpException && e.getStatus() === HttpStatus.PAYLOAD_TOO_LARGE) {
          throw new PayloadTooLargeError(this.config.maxPluginBytes, 'task plugin archive');
        }
        throw new TaskPluginUploadInvalidError(`malformed multipart upload: ${(e as Error).message}`);
      }
      const files = (context.switchToHttp().getRequest<Request & { files?: UploadedFile[] }>().files ?? []);
      const stray = files.find((f) => !fileFields.includes(f.fieldname));
      if (stray) throw new TaskPluginUploadInvalidError(`unexpected file field '${stray.fieldname}'; send the archive as '${fileFields[0]}'`);
      return handled;
    }
  }
  return mixin(Interceptor);
}
