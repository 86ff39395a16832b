import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsNotEmpty, IsOptional, IsString, Matches, Max, MaxLength, Min, MinLength, IsObject, ValidateBy } from 'class-validator';
import { OptionalInt64Query } from '../common/int64';
import { PageQueryDto, PaginationDto } from '../common/pagination';
import { QueryArray, QueryBoolean } from '../common/query-booleans';
import { toIso } from '../common/time';
import { LOG_STREAMS, type LogStream } from './job-log.entity';
import { JOB_STATUSES, type JobStatus } from './job.entity';
import type { JobLogRow, JobSortKey, JobView } from './jobs.repository';

const MAX_INT = 2 ** 31 - 1;
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ID_PATTERN = /^\d{1,10}$/;
/** ISO 8601 as clients write it: a date, or a date-time with a zone (a zone-less time would be the server's local time). */
const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2}))?$/i;

/** An ISO 8601 time as ISO_TIME spells it, on a real calendar day (no 2026-02-30) from year 1, else null. */
export function parseIsoTime(text: string): Date | null {
  const m = ISO_TIME.exec(text);
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const day = new Date(Date.UTC(2000, mo - 1, d));
  day.setUTCFullYear(y);
  if (y < 1 || day.getUTCMonth() !== mo - 1 || day.getUTCDate() !== d) return null;
  const ms = Date.parse(m[4] ? text.toUpperCase() : `${text}T00:00:00Z`);
  return Number.isFinite(ms) ? new Date(ms) : null;
}
/** 1–32 hex digits, with dashes anywhere (at most the 4 of a UUID plus slack for a pasted id). */
const ID_PREFIX = /^(?=(?:-*[0-9a-f]){1,32}-*$)[0-9a-f-]{1,40}$/i;

/** `POST /api/v1/jobs` multipart fields (the archive is the file part `workflow`). */
export class SubmitJobFormDto {
  /** The experiment by id (or give experimentName). */
  @IsOptional() @IsString() @Matches(ID_PATTERN, { message: 'experimentId must be an integer' }) experimentId?: string;
  /** The experiment by name (or give experimentId). */
  @IsOptional() @IsString() @MaxLength(1024) experimentName?: string;
  /** The queue by id (or give queue). */
  @IsOptional() @IsString() @Matches(ID_PATTERN, { message: 'queueId must be an integer' }) queueId?: string;
  /** The queue by name (or give queueId). */
  @IsOptional() @IsString() @MaxLength(1024) queue?: string;
  /** An entry point of the MLproject, or a `.py`/`.sh` file beside it. */
  @IsString() @IsNotEmpty() @MaxLength(1024) entryPoint: string;
  /** JSON object of parameter name → value, e.g. `{"epochs": "3"}`; exclusive with entryPointKwargs. */
  @IsOptional() @IsString() parameters?: string;
  /** Shell words `-P name=value ...`; exclusive with parameters. */
  @IsOptional() @IsString() entryPointKwargs?: string;
  /** Id of a job that must finish first. */
  @IsOptional() @IsString() dependsOn?: string;
  /** Seconds, or digits followed by s, m, h or d (default 24h). */
  @IsOptional() @IsString() timeout?: string;
  /** The archive (tar, tar.gz/tgz or zip) holding an MLproject. */
  @ApiProperty({ type: 'string', format: 'binary', required: true })
  @IsOptional() // multer takes the file out of the body; this only documents the part
  workflow?: unknown;
}

export class ListJobsQueryDto extends PageQueryDto {
  /** Only jobs in these statuses (repeatable). */
  @ApiPropertyOptional({ enum: JOB_STATUSES, isArray: true })
  @IsOptional()
  @QueryArray()
  @IsIn(JOB_STATUSES, { each: true })
  status?: JobStatus[];

  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(MAX_INT) experimentId?: number;

  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(MAX_INT) queueId?: number;

  /** Only jobs of these usernames (repeatable). */
  @IsOptional() @QueryArray() @IsString({ each: true }) users?: string[];

  /** Only the jobs that wait for this job. */
  @IsOptional() @IsString() @Matches(UUID_PATTERN, { message: 'dependsOn must be a job id (UUID)' }) dependsOn?: string;

  /** Only jobs whose lastModified is later than this time (ISO 8601 with `Z` or an offset, or a date meaning its UTC midnight). */
  @ApiPropertyOptional({ type: String, format: 'date-time', example: '2026-01-02T03:04:05.678Z' })
  @IsOptional()
  @IsString()
  @ValidateBy({
    name: 'isIsoTime',
    validator: {
      validate: (v: unknown) => typeof v === 'string' && parseIsoTime(v) !== null,
      defaultMessage: () => 'modifiedSince must be an ISO 8601 time with Z or an offset (2026-01-02T03:04:05.678Z) or a date (2026-01-02)',
    },
  })
  modifiedSince?: string;

  /** Only jobs whose id starts with these hex digits (1 to 32; dashes are ignored, so a pasted short id works). */
  @ApiPropertyOptional({ type: String, example: '1234abcd' })
  @IsOptional()
  @IsString()
  @Matches(ID_PREFIX, { message: 'idPrefix must be 1 to 32 hex digits, dashes allowed' })
  idPrefix?: string;

  /** `id` is insertion order. */
  @ApiPropertyOptional({ enum: ['id', 'createdAt', 'lastModified', 'status'], default: 'id' })
  @IsOptional()
  @IsIn(['id', 'createdAt', 'lastModified', 'status'])
  sortBy?: JobSortKey = 'id';
}

export class JobLogsQueryDto extends PageQueryDto {
  /** Stream `application/x-ndjson`, one log object per line, until the job has ended. */
  @IsOptional() @QueryBoolean() @IsBoolean() follow?: boolean;

  /** Only lines whose id is greater (both forms; `offset` then counts from the first line after it, and a follow starts there). */
  @OptionalInt64Query({ min: 0n, example: '0' })
  afterId?: string;

  /** With `follow=true`: an empty line (`\n`) every 15 s while nothing else is sent, so proxies and browsers keep the stream open. */
  @IsOptional() @QueryBoolean() @IsBoolean() heartbeat?: boolean;

  /** Paged form only: lines containing this text, case-insensitively. */
  @IsOptional() @IsString() @MinLength(1) @MaxLength(1024) q?: string;

  /** Paged form only: lines of this stream. */
  @ApiPropertyOptional({ enum: LOG_STREAMS })
  @IsOptional()
  @IsIn(LOG_STREAMS)
  stream?: LogStream;
}

export class JobDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() experimentId: number;
  @ApiProperty() experimentName: string;
  @ApiProperty() queueId: number;
  @ApiProperty() queueName: string;
  /** The submitter. */
  @ApiProperty() username: string;
  @ApiProperty({ enum: JOB_STATUSES }) status: JobStatus;
  @ApiProperty() entryPoint: string;
  @ApiProperty({ type: String, nullable: true }) entryPointKwargs: string | null;
  /** The parsed `-P` map as given. */
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } }) parameters: Record<string, string>;
  @ApiProperty({ type: String, nullable: true }) dependsOn: string | null;
  /** As submitted. */
  @ApiProperty() timeout: string;
  @ApiProperty() workflowUri: string;
  @ApiProperty({ type: String, nullable: true }) mlflowRunId: string | null;
  @ApiProperty() createdAt: string;
  @ApiProperty() lastModified: string;
  @ApiProperty({ type: String, nullable: true }) startedAt: string | null;
  @ApiProperty({ type: String, nullable: true }) endedAt: string | null;
  @ApiProperty({ type: Number, nullable: true }) exitCode: number | null;
  /** Why the job failed or was canceled, in words. */
  @ApiProperty({ type: String, nullable: true }) failureReason: string | null;
}

export function toJobDto(j: JobView): JobDto {
  return {
    id: j.id,
    experimentId: j.experimentId,
    experimentName: j.experimentName,
    queueId: j.queueId,
    queueName: j.queueName,
    username: j.username,
    status: j.status,
    entryPoint: j.entryPoint,
    entryPointKwargs: j.entryPointKwargs,
    parameters: j.parameters,
    dependsOn: j.dependsOn,
    timeout: j.timeout,
    workflowUri: j.workflowUri,
    mlflowRunId: j.mlflowRunId,
    createdAt: toIso(j.createdAt)!,
    lastModified: toIso(j.lastModified)!,
    startedAt: toIso(j.startedAt),
    endedAt: toIso(j.endedAt),
    exitCode: j.exitCode,
    failureReason: j.failureReason,
  };
}

export class JobReplyDto {
  @ApiProperty({ type: JobDto }) job: JobDto;
}

export class JobsPageDto {
  @ApiProperty({ type: [JobDto] }) jobs: JobDto[];
  @ApiProperty({ type: PaginationDto }) pagination: PaginationDto;
}

export class JobLogDto {
  @ApiProperty() id: number;
  @ApiProperty({ enum: LOG_STREAMS }) stream: LogStream;
  @ApiProperty() line: string;
  @ApiProperty() timestamp: string;
}

export function toJobLogDto(l: JobLogRow): JobLogDto {
  return { id: Number(l.id), stream: l.stream, line: l.line, timestamp: toIso(l.time)! };
}

export class JobLogsPageDto {
  @ApiProperty({ type: [JobLogDto] }) logs: JobLogDto[];
  @ApiProperty({ type: PaginationDto }) pagination: PaginationDto;
}

/** `POST /api/v1/workflows/inspect` multipart: only the archive. */
export class InspectWorkflowFormDto {
  /** The archive (tar, tar.gz/tgz or zip) holding an MLproject, as a submission takes it. */
  @ApiProperty({ type: 'string', format: 'binary', required: true })
  @IsOptional() // multer takes the file out of the body; this only documents the part
  workflow?: unknown;
}

export class EntryPointParameterDto {
  @ApiProperty() name: string;
  /** As declared (`string`, `float`, `int`, `path`, `uri`, or anything else MLflow accepts). */
  @ApiProperty() type: string;
  /** The default as MLflow renders it (Python's `str()` of the YAML value); null when there is none. */
  @ApiProperty({ type: String, nullable: true }) default: string | null;
  /** True when there is no default: a submission must give it. */
  @ApiProperty() required: boolean;
}

export class EntryPointDto {
  @ApiProperty() name: string;
  /** The command template, `{param}` placeholders as written. */
  @ApiProperty() command: string;
  @ApiProperty({ type: [EntryPointParameterDto] }) parameters: EntryPointParameterDto[];
  /** Why a submission of this entry point would be refused (its declaration cannot be read; command and parameters are then empty), else null. */
  @ApiProperty({ type: String, nullable: true }) error: string | null;
}

export class InspectWorkflowReplyDto {
  /** The MLproject's declared entry points in file order. */
  @ApiProperty({ type: [EntryPointDto] }) entryPoints: EntryPointDto[];
}

/** `POST /api/v1/jobs/{id}/rerun`: what to change; everything else (archive, entry point, experiment) is the original's. */
export class RerunJobDto {
  /** Another queue (default: the original's). */
  @IsOptional() @IsInt() @Min(1) @Max(MAX_INT) queueId?: number;
  /** Parameter name → value (string, number or boolean), replacing the original's parameters as a whole. */
  @ApiPropertyOptional({ type: 'object', additionalProperties: { oneOf: [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }] } })
  @IsOptional()
  @IsObject()
  parameters?: Record<string, unknown>;
  /** Seconds, or digits followed by s, m, h or d (default: the original's). */
  @IsOptional() @IsString() @MaxLength(64) timeout?: string;
}
