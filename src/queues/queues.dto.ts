import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsBoolean, IsIn, IsOptional, IsString, Matches, MaxLength, ValidateBy } from 'class-validator';
import { parseSize } from '../config/config';
import { PageQueryDto, PaginationDto } from '../common/pagination';
import { QueryBoolean } from '../common/query-booleans';
import type { QueueSort } from './queues.repository';

const NETWORKS = ['none', 'host'];
const NETWORK_INPUTS = [...NETWORKS, 'default'];
const DEVICE = /^\/dev\/(?!.*\.\.)[A-Za-z0-9_.*\/-]{1,200}$/;

const MiB = 1024 ** 2;
/** Per-queue limits an admin may set: bounds that keep a job runnable and the numbers exact. */
const MEMORY_LIMITS = { min: 16 * MiB, max: 2 ** 50 };
const PIDS_LIMITS = { min: 8, max: 4_194_304 };
const SIZE_INPUT = /^\d+(\.\d+)?\s*([KMGT]i?B?|B)?$/i;

/** A limit: an integer within bounds, or `default` (the worker's setting). */
function IsLimit(bounds: { min: number; max: number }, what: string): PropertyDecorator {
  return ValidateBy({
    name: 'isLimit',
    validator: {
      validate: (v: unknown) => v === 'default' || (Number.isSafeInteger(v) && (v as number) >= bounds.min && (v as number) <= bounds.max),
      defaultMessage: (a) => `${a?.property} must be ${what} from ${bounds.min} to ${bounds.max}, or "default"`,
    },
  });
}

const SORTS: QueueSort[] = ['id', 'name', 'createdAt', 'lastModified'];

export class QueueJobCountsDto {
  @ApiProperty() queued: number;
  @ApiProperty() deferred: number;
  @ApiProperty() started: number;
}

export class QueueDto {
  @ApiProperty() id: number;
  @ApiProperty() name: string;
  @ApiProperty() description: string;
  /** A locked queue refuses new jobs; jobs already on it still run. */
  @ApiProperty() locked: boolean;
  @ApiProperty({ type: String, nullable: true }) lockedAt: string | null;
  @ApiProperty() createdAt: string;
  @ApiProperty() lastModified: string;
  @ApiProperty({ type: QueueJobCountsDto }) jobCounts: QueueJobCountsDto;
  /** The job sandbox's network on this queue: `none` (the job's own loopback; MLflow tracking is forwarded) or `host`; null = the worker's default (JOB_NETWORK). */
  @ApiProperty({ type: String, enum: NETWORKS, nullable: true }) network: 'none' | 'host' | null;
  /** Device paths bound into this queue's job sandboxes (GPUs: `/dev/nvidia*`). */
  @ApiProperty({ type: [String] }) devices: string[];
  /** Memory limit in bytes of this queue's jobs; null = the worker's default (JOB_MEMORY_LIMIT). */
  @ApiProperty({ type: Number, nullable: true, example: 4294967296 }) memoryLimit: number | null;
  /** Process limit of this queue's jobs; null = the worker's default (JOB_PIDS_LIMIT). */
  @ApiProperty({ type: Number, nullable: true, example: 512 }) pidsLimit: number | null;
}

export class QueueReplyDto {
  @ApiProperty({ type: QueueDto }) queue: QueueDto;
}

export class QueuesPageDto {
  @ApiProperty({ type: [QueueDto] }) queues: QueueDto[];
  @ApiProperty({ type: PaginationDto }) pagination: PaginationDto;
}

/** The queue's job-sandbox choices, the same on create and patch (admins only, as every queue write). */
class QueueSandboxChoicesDto {
  /** Admin: the job sandbox's network on this queue, `none` or `host`; `default` = the worker's JOB_NETWORK (shown as null). */
  @ApiPropertyOptional({ enum: NETWORK_INPUTS })
  @IsOptional()
  @IsIn(NETWORK_INPUTS)
  network?: 'none' | 'host' | 'default';
  /** Admin: device paths under /dev bound into this queue's job sandboxes; `*` matches within a name (`/dev/nvidia*`). */
  @IsOptional() @IsArray() @ArrayMaxSize(64) @IsString({ each: true }) @Matches(DEVICE, { each: true, message: 'each device must be a path under /dev/ (letters, digits, _ . - * /)' }) devices?: string[];
  /** Admin: memory limit of this queue's jobs, bytes or a size such as `8G` or `512M`; `default` = the worker's JOB_MEMORY_LIMIT. */
  @ApiPropertyOptional({ oneOf: [{ type: 'integer' }, { type: 'string' }], example: '8G' })
  @IsOptional()
  @Transform(({ value }) => (typeof value === 'string' && SIZE_INPUT.test(value) ? parseSize(value) : value))
  @IsLimit(MEMORY_LIMITS, 'a number of bytes')
  memoryLimit?: number | 'default';
  /** Admin: process limit of this queue's jobs (fork bombs stop there); `default` = the worker's JOB_PIDS_LIMIT. */
  @ApiPropertyOptional({ oneOf: [{ type: 'integer' }, { type: 'string', enum: ['default'] }], example: 1024 })
  @IsOptional()
  @IsLimit(PIDS_LIMITS, 'an integer')
  pidsLimit?: number | 'default';
}

export class CreateQueueDto extends QueueSandboxChoicesDto {
  /** Slugified as Dioptra does; 1–255 characters after that. */
  @IsString() @MaxLength(4096) name: string;
  @IsOptional() @IsString() @MaxLength(65536) description?: string;
}

export class PatchQueueDto extends QueueSandboxChoicesDto {
  /** New name, slugified. */
  @IsOptional() @IsString() @MaxLength(4096) name?: string;
  @IsOptional() @IsString() @MaxLength(65536) description?: string;
}

export class QueuesQueryDto extends PageQueryDto {
  /** Case-insensitive substring of the name. */
  @IsOptional() @IsString() name?: string;

  @IsOptional() @QueryBoolean() @IsBoolean() locked?: boolean;

  @ApiPropertyOptional({ enum: SORTS, default: 'id' })
  @IsOptional()
  @IsIn(SORTS)
  sortBy?: QueueSort = 'id';
}
