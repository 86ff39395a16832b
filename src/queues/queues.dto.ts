import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { PageQueryDto, PaginationDto } from '../common/pagination';
import { QueryBoolean } from '../common/query-booleans';
import type { QueueSort } from './queues.repository';

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
}

export class QueueReplyDto {
  @ApiProperty({ type: QueueDto }) queue: QueueDto;
}

export class QueuesPageDto {
  @ApiProperty({ type: [QueueDto] }) queues: QueueDto[];
  @ApiProperty({ type: PaginationDto }) pagination: PaginationDto;
}

export class CreateQueueDto {
  /** Slugified as Dioptra does; 1–255 characters after that. */
  @IsString() @MaxLength(4096) name: string;
  @IsOptional() @IsString() @MaxLength(65536) description?: string;
}

export class PatchQueueDto {
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
