import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsBoolean, IsIn, IsOptional, IsString, Length, MaxLength } from 'class-validator';
import { PageQueryDto, PaginationDto } from '../common/pagination';
import { QueryArray, QueryBoolean } from '../common/query-booleans';
import { EXPERIMENT_STATES } from './experiments.repository';
import type { ExperimentSort, ExperimentState } from './experiments.repository';

const SORTS: ExperimentSort[] = ['id', 'name', 'startTime', 'lastModified', 'numTrials'];

/** An experiment as the v1 API shows it (Determined's fields plus name and lastModified). */
export class ExperimentDto {
  @ApiProperty() id: number;
  @ApiProperty() name: string;
  @ApiProperty() description: string;
  @ApiProperty({ type: [String] }) labels: string[];
  @ApiProperty() archived: boolean;
  /** Derived from the experiment's jobs. */
  @ApiProperty({ enum: EXPERIMENT_STATES }) state: ExperimentState;
  /** Number of jobs. */
  @ApiProperty() numTrials: number;
  /** Share of jobs in a terminal status, 0..1. */
  @ApiProperty() progress: number;
  /** The owner. */
  @ApiProperty() username: string;
  /** Creation time. */
  @ApiProperty() startTime: string;
  /** When the last job ended, while no job is active; else null. */
  @ApiProperty({ type: String, nullable: true }) endTime: string | null;
  @ApiProperty() lastModified: string;
}

export class ExperimentReplyDto {
  @ApiProperty({ type: ExperimentDto }) experiment: ExperimentDto;
}

export class ExperimentsPageDto {
  @ApiProperty({ type: [ExperimentDto] }) experiments: ExperimentDto[];
  @ApiProperty({ type: PaginationDto }) pagination: PaginationDto;
}

export class CreateExperimentDto {
  /** Slugified as Dioptra does (lower-case, trimmed, spaces → '-'); 1–255 characters after that. */
  @IsString() @MaxLength(4096) name: string;
  @IsOptional() @IsString() @MaxLength(65536) description?: string;
  @IsOptional() @IsArray() @ArrayMaxSize(100) @IsString({ each: true }) @Length(1, 255, { each: true }) labels?: string[];
}

export class PatchExperimentDto {
  /** New name, slugified. */
  @IsOptional() @IsString() @MaxLength(4096) name?: string;
  @IsOptional() @IsString() @MaxLength(65536) description?: string;
  /** Replaces the labels. */
  @IsOptional() @IsArray() @ArrayMaxSize(100) @IsString({ each: true }) @Length(1, 255, { each: true }) labels?: string[];
}

export class ExperimentsQueryDto extends PageQueryDto {
  /** Case-insensitive substring of the name. */
  @IsOptional() @IsString() name?: string;

  @IsOptional() @QueryBoolean() @IsBoolean() archived?: boolean;

  /** Repeatable; the experiment must carry every one. */
  @ApiPropertyOptional({ type: [String] })
  @IsOptional()
  @QueryArray()
  @IsString({ each: true })
 
  labels?: string[];

  /** Repeatable owner usernames. */
  @ApiPropertyOptional({ type: [String] })
  @IsOptional()
  @QueryArray()
  @IsString({ each: true })
 
  users?: string[];

  /** Repeatable states. */
  @ApiPropertyOptional({ enum: EXPERIMENT_STATES, isArray: true })
  @IsOptional()
  @QueryArray()
  @IsIn(EXPERIMENT_STATES, { each: true })
  states?: ExperimentState[];

  @ApiPropertyOptional({ enum: SORTS, default: 'id' })
  @IsOptional()
  @IsIn(SORTS)
  sortBy?: ExperimentSort = 'id';
}
