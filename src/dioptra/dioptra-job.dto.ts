import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { toDioptraTime } from '../common/time';
import { JobEntity } from '../jobs/job.entity';

/** Dioptra's Job (reference §2.1): always these 12 keys, null where unset. `canceled` shows as `failed`. */
export class DioptraJobDto {
  @ApiProperty({ format: 'uuid' }) jobId: string;
  @ApiProperty({ type: String, nullable: true }) mlflowRunId: string | null;
  @ApiProperty() experimentId: number;
  @ApiProperty() queueId: number;
  @ApiProperty({ example: '2020-08-17T18:46:28.717000' }) createdOn: string;
  @ApiProperty({ example: '2020-08-17T18:46:28.717000' }) lastModified: string;
  /** As submitted, e.g. `12h`. */
  @ApiProperty({ type: String, nullable: true }) timeout: string | null;
  @ApiProperty({ example: 'db://workflow/0123456789abcdef0123456789abcdef/workflows.tar.gz' }) workflowUri: string;
  @ApiProperty() entryPoint: string;
  @ApiProperty({ type: String, nullable: true }) entryPointKwargs: string | null;
  @ApiProperty({ type: String, nullable: true }) dependsOn: string | null;
  @ApiProperty({ enum: ['queued', 'started', 'deferred', 'finished', 'failed'] }) status: string;
}

export function toDioptraJob(j: JobEntity): DioptraJobDto {
  return {
    jobId: j.id,
    mlflowRunId: j.mlflowRunId,
    experimentId: j.experimentId,
    queueId: j.queueId,
    createdOn: toDioptraTime(j.createdAt)!,
    lastModified: toDioptraTime(j.lastModified)!,
    timeout: j.timeout,
    workflowUri: j.workflowUri,
    entryPoint: j.entryPoint,
    entryPointKwargs: j.entryPointKwargs,
    dependsOn: j.dependsOn,
    // Dioptra clients stop polling on finished/failed; they know no `canceled`.
    status: j.status === 'canceled' ? 'failed' : j.status,
  };
}

/** `POST /api/job/` multipart fields, in either spelling (camelCase, or the classic snake_case), plus the file `workflow`. */
export class DioptraSubmitJobFormDto {
  @ApiPropertyOptional({ description: 'or experiment_name' }) experimentName?: string;
  @ApiProperty() queue: string;
  @ApiPropertyOptional({ default: '24h' }) timeout?: string;
  @ApiPropertyOptional({ description: 'or entry_point' }) entryPoint?: string;
  @ApiPropertyOptional({ description: 'or entry_point_kwargs', example: '-P var1=testing' }) entryPointKwargs?: string;
  @ApiPropertyOptional({ description: 'or depends_on' }) dependsOn?: string;
  @ApiProperty({ type: 'string', format: 'binary' }) workflow: unknown;
}
