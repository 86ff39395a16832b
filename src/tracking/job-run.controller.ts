import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiProperty, ApiPropertyOptional, ApiTags, OmitType } from '@nestjs/swagger';
import { PageQueryDto, PaginationDto, pageWindow } from '../common/pagination';
import { toIso } from '../common/time';
import { JobsService } from '../jobs/jobs.service';
import { TrackingService } from './tracking.service';
import { TrackingNotFoundError } from './tracking.errors';

export class JobRunMetricDto {
  @ApiProperty({ description: 'A number, or "NaN" / "Infinity" / "-Infinity".', oneOf: [{ type: 'number' }, { type: 'string' }] }) value: number | string;
  @ApiProperty() step: number;
  @ApiProperty({ description: 'Epoch milliseconds, as MLflow has them.' }) timestamp: number;
}

export class JobRunArtifactDto {
  @ApiProperty() path: string;
  @ApiProperty() size: number;
}

export class JobRunDto {
  @ApiProperty() id: string;
  @ApiProperty() experimentId: number;
  @ApiProperty({ enum: ['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED'] }) status: string;
  @ApiProperty() startTime: string;
  @ApiPropertyOptional({ nullable: true, type: String }) endTime: string | null;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } }) params: Record<string, string>;
  @ApiProperty({ type: 'object', additionalProperties: { $ref: '#/components/schemas/JobRunMetricDto' } }) metrics: Record<string, JobRunMetricDto>;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } }) tags: Record<string, string>;
  @ApiProperty({ type: [JobRunArtifactDto] }) artifacts: JobRunArtifactDto[];
}

export class JobRunReplyDto {
  @ApiProperty({ type: JobRunDto }) run: JobRunDto;
}

export class MetricPointDto {
  @ApiProperty() step: number;
  @ApiProperty({ oneOf: [{ type: 'number' }, { type: 'string' }] }) value: number | string;
  @ApiProperty() timestamp: number;
}

/** offset and limit as every v1 list; no sortBy/orderBy: points come in step order. */
export class MetricPointsQueryDto extends OmitType(PageQueryDto, ['orderBy'] as const) {}

export class MetricPointsPageDto {
  @ApiProperty({ type: [MetricPointDto] }) points: MetricPointDto[];
  @ApiProperty({ type: PaginationDto }) pagination: PaginationDto;
}

const num = (v: number): number | string => (Number.isNaN(v) ? 'NaN' : v === Infinity ? 'Infinity' : v === -Infinity ? '-Infinity' : v);

/** v1 reads of a job's run (API.md §8), for tools and the dashboard. */
@ApiTags('Jobs')
@Controller('api/v1/jobs')
export class JobRunController {
  constructor(
    private readonly jobs: JobsService,
    private readonly tracking: TrackingService,
  ) {}

  @Get(':id/run')
  @ApiOperation({ summary: "The job's MLflow run: params, latest metrics, tags, artifacts. 404 before the job starts." })
  @ApiOkResponse({ type: JobRunReplyDto })
  async run(@Param('id') id: string): Promise<JobRunReplyDto> {
    const runId = await this.runIdOf(id);
    const view = await this.tracking.runWithArtifacts(runId);
    if (!view) throw new TrackingNotFoundError(`job ${id} has no run on this server`);
    const { run, data, artifacts } = view;
    return {
      run: {
        id: run.id,
        experimentId: run.experimentId,
        status: run.status,
        startTime: toIso(new Date(Number(run.startTime)))!,
        endTime: run.endTime === null ? null : toIso(new Date(Number(run.endTime))),
        params: Object.fromEntries(data.params.map((p) => [p.key, p.value])),
        metrics: Object.fromEntries(data.metrics.map((m) => [m.key, { value: num(m.value), step: Number(m.step), timestamp: Number(m.timestamp) }])),
        tags: Object.fromEntries(data.tags.map((t) => [t.key, t.value])),
        artifacts: artifacts.map((a) => ({ path: a.path, size: Number(a.size) })),
      },
    };
  }

  @Get(':id/metrics/*key')
  @ApiOperation({ summary: "Every point of one of the run's metrics, in step order, paged. The key may hold '/' (train/loss)." })
  @ApiParam({ name: 'key', type: String })
  @ApiOkResponse({ type: MetricPointsPageDto })
  async metric(@Param('id') id: string, @Param('key') segments: string | string[], @Query() q: MetricPointsQueryDto): Promise<MetricPointsPageDto> {
    const key = Array.isArray(segments) ? segments.join('/') : segments;
    const runId = await this.runIdOf(id);
    const { total } = await this.tracking.metricPointsByStep(runId, key, 0, 0);
    const pagination = pageWindow(total, q.offset ?? 0, q.limit ?? 100);
    const { rows } = await this.tracking.metricPointsByStep(runId, key, pagination.startIndex, pagination.endIndex - pagination.startIndex);
    return { points: rows.map((m) => ({ step: Number(m.step), value: num(m.value), timestamp: Number(m.timestamp) })), pagination };
  }

  private async runIdOf(jobId: string): Promise<string> {
    const job = await this.jobs.get(jobId);
    if (!job.mlflowRunId) throw new TrackingNotFoundError(`job ${jobId} has no run yet`);
    return job.mlflowRunId;
  }
}
