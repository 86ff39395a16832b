import { Body, Controller, Get, HttpCode, Param, Post, Query, Res, StreamableFile, UploadedFile, UseInterceptors } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiConsumes, ApiOkResponse, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { AuthUser, CurrentUser } from '../common/auth-user';
import { ExperimentNotFoundError } from '../experiments/experiments.errors';
import { EmptyDto } from '../users/users.dto';
import { closeSignal, writeChunk } from './http-stream';
import { parametersFromJson, parseParametersField } from './job-parameters';
import {
  JobLogsPageDto,
  JobLogsQueryDto,
  JobReplyDto,
  JobsPageDto,
  ListJobsQueryDto,
  parseIsoTime,
  RerunJobDto,
  SubmitJobFormDto,
  toJobDto,
  toJobLogDto,
} from './jobs.dto';
import { JobSubmissionInvalidError } from './jobs.errors';
import { ListJobsQuery, JobsService, SubmitJobInput } from './jobs.service';
import { WorkflowUploadInterceptor } from './workflow-upload.interceptor';

@ApiTags('Jobs')
@ApiBearerAuth()
@Controller('api/v1')
export class JobsController {
  constructor(private readonly jobs: JobsService) {}

  /** List jobs, filtered, sorted and paginated. */
  @Get('jobs')
  async list(@Query() q: ListJobsQueryDto): Promise<JobsPageDto> {
    const page = await this.jobs.list(listQuery(q));
    return { jobs: page.rows.map(toJobDto), pagination: page.pagination };
  }

  /** Submit a job: multipart form with the workflow archive in the file part `workflow`. */
  @Post('jobs')
  @UseInterceptors(WorkflowUploadInterceptor)
  @ApiConsumes('multipart/form-data')
  @ApiBody({ type: SubmitJobFormDto })
  async submit(@CurrentUser() actor: AuthUser, @Body() form: SubmitJobFormDto, @UploadedFile() file?: Express.Multer.File): Promise<JobReplyDto> {
    return { job: toJobDto(await this.jobs.submit(actor, submitInput(form, file))) };
  }

  /** Get a job. */
  @Get('jobs/:id')
  async get(@Param('id') id: string): Promise<JobReplyDto> {
    return { job: toJobDto(await this.jobs.get(id)) };
  }

  /** Cancel a job (owner or admin): queued and deferred jobs end at once, a started one is killed. */
  @Post('jobs/:id/cancel')
  @HttpCode(200)
  async cancel(@CurrentUser() actor: AuthUser, @Param('id') id: string): Promise<EmptyDto> {
    await this.jobs.cancel(actor, id);
    return {};
  }

  /**
   * Submit the job again: the same archive, entry point and experiment, with the queue, parameters and timeout given
   * or the original's; every submission rule and check applies (as POST /api/v1/jobs). 201 with the new job.
   */
  @Post('jobs/:id/rerun')
  async rerun(@CurrentUser() actor: AuthUser, @Param('id') id: string, @Body() body: RerunJobDto): Promise<JobReplyDto> {
    const parameters = body.parameters !== undefined ? parametersFromJson(body.parameters) : undefined;
    return { job: toJobDto(await this.jobs.rerun(actor, id, { queueId: body.queueId, parameters, timeout: body.timeout })) };
  }

  /**
   * A job's log lines, paged by line id (`afterId`, `q` and `stream` narrow the set that is paged); `?follow=true`
   * streams NDJSON after `afterId` until the job has ended, with `heartbeat=true` an empty line every 15 s of silence.
   */
  @Get('jobs/:id/logs')
  @ApiProduces('application/json', 'application/x-ndjson')
  @ApiOkResponse({ type: JobLogsPageDto })
  async logs(@Param('id') id: string, @Query() q: JobLogsQueryDto, @Res() res: Response): Promise<void> {
    const filter = { afterId: q.afterId, text: q.q, stream: q.stream };
    if (!q.follow) {
      const page = await this.jobs.logs(id, { filter, orderBy: q.orderBy ?? 'asc', offset: q.offset ?? 0, limit: q.limit ?? 100 });
      res.json({ logs: page.rows.map(toJobLogDto), pagination: page.pagination } satisfies JobLogsPageDto);
      return;
    }
    await this.jobs.assertFollowable(id, filter);
    const signal = closeSignal(res);
    res.status(200).setHeader('Content-Type', 'application/x-ndjson; charset=utf-8');
    res.setHeader('Cache-Control', 'no-cache');
    res.flushHeaders();
    for await (const batch of this.jobs.followLogs(id, signal, { afterId: q.afterId, heartbeat: q.heartbeat })) {
      // An empty batch is a heartbeat: an empty line, which NDJSON readers skip.
      const chunk = batch.length === 0 ? '\n' : batch.map((l) => `${JSON.stringify(toJobLogDto(l))}\n`).join('');
      if (!(await writeChunk(res, chunk))) return;
    }
    res.end();
  }

  /** The workflow archive as uploaded. */
  @Get('jobs/:id/workflow')
  @ApiProduces('application/octet-stream')
  @ApiOkResponse({ schema: { type: 'string', format: 'binary' } })
  async workflow(@Param('id') id: string): Promise<StreamableFile> {
    // StreamableFile pipes the store's stream into the reply: chunks are read only as fast as the client takes them.
    const { stream, filename } = await this.jobs.workflow(id);
    return new StreamableFile(stream, { type: 'application/octet-stream', disposition: `attachment; filename="${filename}"`, length: stream.info.size });
  }

  /** The jobs of one experiment (as GET /api/v1/jobs, filtered to it). */
  @Get('experiments/:id/jobs')
  async listForExperiment(@Param('id') id: string, @Query() q: ListJobsQueryDto): Promise<JobsPageDto> {
    if (!/^\d+$/.test(id)) throw new ExperimentNotFoundError(id);
    const page = await this.jobs.listForExperiment(Number(id), listQuery(q));
    return { jobs: page.rows.map(toJobDto), pagination: page.pagination };
  }
}

function listQuery(q: ListJobsQueryDto): ListJobsQuery {
  return {
    filter: {
      statuses: q.status,
      experimentId: q.experimentId,
      queueId: q.queueId,
      usernames: q.users,
      dependsOn: q.dependsOn,
      modifiedSince: q.modifiedSince !== undefined ? parseIsoTime(q.modifiedSince)! : undefined,
      idPrefix: q.idPrefix?.replace(/-/g, '').toLowerCase(),
    },
    sortBy: q.sortBy ?? 'id',
    orderBy: q.orderBy ?? 'asc',
    offset: q.offset ?? 0,
    limit: q.limit ?? 100,
  };
}

/** v1 form fields → the one submission input: exactly one way to name the experiment and the queue. */
function submitInput(form: SubmitJobFormDto, file: Express.Multer.File | undefined): SubmitJobInput {
  const one = (id: string | undefined, name: string | undefined, what: string, idField: string, nameField: string) => {
    if (id !== undefined && name !== undefined) throw new JobSubmissionInvalidError(`give ${idField} or ${nameField} for the ${what}, not both`);
    if (id === undefined && !name) throw new JobSubmissionInvalidError(`${idField} or ${nameField} is required`);
    return id !== undefined ? { id: Number(id) } : { name };
  };
  return {
    experiment: one(form.experimentId, form.experimentName, 'experiment', 'experimentId', 'experimentName'),
    queue: one(form.queueId, form.queue, 'queue', 'queueId', 'queue'),
    entryPoint: form.entryPoint,
    parameters: form.parameters !== undefined ? parseParametersField(form.parameters) : undefined,
    entryPointKwargs: form.entryPointKwargs,
    dependsOn: form.dependsOn,
    timeout: form.timeout,
    workflow: file ? { path: file.path, size: file.size, originalName: file.originalname } : null,
  };
}
