import { Body, Controller, Get, Headers, HttpCode, Param, Post, Res, UploadedFile, UseInterceptors } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiConsumes, ApiHeader, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { AuthUser, CurrentUser } from '../common/auth-user';
import { ValidationFailedError } from '../common/errors/domain-error';
import { parseJsonInput } from '../common/input-guards';
import { closeSignal, writeChunk } from '../jobs/http-stream';
import { JobSubmissionInvalidError } from '../jobs/jobs.errors';
import { JobsService, SubmitJobInput } from '../jobs/jobs.service';
import { WorkflowUploadInterceptor } from '../jobs/workflow-upload.interceptor';
import { applyFieldMask, DioptraFieldMaskInterceptor, FieldMask, FieldMaskParseError, parseFieldMask } from './dioptra-http';
import { DioptraJobDto, DioptraSubmitJobFormDto, toDioptraJob } from './dioptra-job.dto';

/** Dioptra 0.x jobs (reference §2.3, J1–J3). Every success is 200. */
@ApiTags('Dioptra: jobs')
@ApiBearerAuth()
@Controller('api/job')
@UseInterceptors(DioptraFieldMaskInterceptor)
export class DioptraJobController {
  constructor(private readonly jobs: JobsService) {}

  /** J1: every job, in insertion order — streamed, so memory does not grow with the number of jobs. */
  @Get()
  @ApiOkResponse({ type: [DioptraJobDto] })
  @ApiHeader({ name: 'x-fields', required: false, description: 'Dioptra\'s field mask, e.g. `{jobId,status}`: only those fields of each job' })
  async list(@Res() res: Response, @Headers('x-fields') fields?: string): Promise<void> {
    // @Res() bypasses interceptors: apply the X-Fields mask here, and refuse a bad one before anything is sent.
    const mask = fieldMask(fields);
    const batches = this.jobs.allInOrder();
    // The first batch is read before anything is sent, so a database failure is still a proper error reply.
    let next = await batches.next();
    const signal = closeSignal(res);
    res.status(200).setHeader('Content-Type', 'application/json; charset=utf-8');
    let separator = '';
    if (!(await writeChunk(res, '['))) return;
    while (!next.done) {
      // The client went away: stop reading the table.
      if (signal.aborted) return;
      const items = next.value.map((j) => JSON.stringify(mask ? applyFieldMask(toDioptraJob(j), mask) : toDioptraJob(j)));
      if (!(await writeChunk(res, separator + items.join(',')))) return;
      separator = ',';
      next = await batches.next();
    }
    res.end(']\n');
  }

  /** J2: submit (multipart, camelCase or snake_case fields, file `workflow`). */
  @Post()
  @HttpCode(200)
  @UseInterceptors(WorkflowUploadInterceptor)
  @ApiConsumes('multipart/form-data')
  @ApiBody({ type: DioptraSubmitJobFormDto })
  async submit(@CurrentUser() actor: AuthUser, @Body() body: unknown, @UploadedFile() file?: Express.Multer.File): Promise<DioptraJobDto> {
    return toDioptraJob(await this.jobs.submit(actor, dioptraSubmitInput(body, file)));
  }

  /** J3 */
  @Get(':jobId')
  async get(@Param('jobId') jobId: string): Promise<DioptraJobDto> {
    return toDioptraJob(await this.jobs.get(jobId));
  }
}

function fieldMask(header: string | undefined): FieldMask | null {
  if (header === undefined) return null;
  try {
    return parseFieldMask(header);
  } catch (e) {
    if (!(e instanceof FieldMaskParseError)) throw e;
    const reason = `Mask parse error: ${e.message}`;
    throw new ValidationFailedError({ 'X-Fields': [reason] }, reason);
  }
}

/** The body as a record: a multipart form, a JSON object, or JSON sent as text (Dioptra parses JSON whatever the type). */
function formRecord(body: unknown): Record<string, unknown> {
  let data = Buffer.isBuffer(body) ? body.toString('utf8') : body;
  if (typeof data === 'string' && data.trim() !== '') {
    data = parseJsonInput(data, 'body', () => new JobSubmissionInvalidError('the request body is neither a multipart form nor JSON'));
  }
  return typeof data === 'object' && data !== null && !Array.isArray(data) ? (data as Record<string, unknown>) : {};
}

/**
 * The form in either spelling → the one submission input. Unknown fields are ignored, as Dioptra's form parsing
 * does; a missing required field is a JobSubmissionError naming it.
 */
function dioptraSubmitInput(body: unknown, file: Express.Multer.File | undefined): SubmitJobInput {
  const form = formRecord(body);
  const field = (camel: string, snake?: string): string | undefined => {
    for (const key of snake ? [camel, snake] : [camel]) {
      const value = form[key];
      if (value === undefined || value === null || value === '') continue;
      if (typeof value === 'string') return value;
      if (typeof value === 'number') return String(value);
      throw new JobSubmissionInvalidError(`field '${key}' must be a single text value`);
    }
    return undefined;
  };
  const required = (camel: string, snake?: string): string => {
    const value = field(camel, snake);
    if (value === undefined) throw new JobSubmissionInvalidError(`missing required field '${camel}'${snake ? ` (or '${snake}')` : ''}`);
    return value;
  };
  const experimentName = required('experimentName', 'experiment_name');
  const queue = required('queue');
  const entryPoint = required('entryPoint', 'entry_point');
  if (!file) throw new JobSubmissionInvalidError("missing required file 'workflow'");
  return {
    experiment: { name: experimentName },
    queue: { name: queue },
    entryPoint,
    entryPointKwargs: field('entryPointKwargs', 'entry_point_kwargs') ?? null,
    dependsOn: field('dependsOn', 'depends_on') ?? null,
    timeout: field('timeout'),
    workflow: { path: file.path, size: file.size, originalName: file.originalname },
  };
}
