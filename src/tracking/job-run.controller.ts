import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiProperty, ApiPropertyOptional, ApiTags, OmitType } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { OptionalInt64Query } from '../common/int64';
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

export class MetricSummaryDto {
  @ApiProperty({ description: 'The metric key (may hold `/`).' }) key: string;
  @ApiProperty({ type: JobRunMetricDto, description: 'The latest point: the greatest (step, timestamp, value), as in `/run`.' }) latest: JobRunMetricDto;
  @ApiProperty({ description: 'How many points the key has.' }) count: number;
}

export class MetricSummariesDto {
  @ApiProperty({ type: [MetricSummaryDto], description: 'Sorted by key (code point order).' }) metrics: MetricSummaryDto[];
}

export const MAX_SERIES_POINTS = 100_000;

export class MetricSeriesQueryDto {
  @ApiPropertyOptional({
    type: Number,
    default: 2000,
    minimum: 2,
    maximum: MAX_SERIES_POINTS,
    description: 'At most this many points come back; more are min/max-bucketed (each of maxPoints/2 buckets keeps its smallest and largest point).',
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(2)
  @Max(MAX_SERIES_POINTS)
  maxPoints?: number = 2000;

  @OptionalInt64Query({ example: '100', description: 'Only points with a greater step (default: all), for appending to a chart already drawn.' })
  afterStep?: string;
}

export class MetricSeriesDto {
  @ApiProperty() key: string;
  @ApiProperty({ type: [Number] }) steps: number[];
  @ApiProperty({ type: 'array', items: { oneOf: [{ type: 'number' }, { type: 'string' }] }, description: 'Numbers, or "NaN" / "Infinity" / "-Infinity".' }) values: Array<number | string>;
  @ApiProperty({ type: [Number], description: 'Epoch milliseconds.' }) timestamps: number[];
  @ApiProperty({ description: 'Points after afterStep, before bucketing.' }) total: number;
  @ApiProperty({ description: 'True when the points were min/max-bucketed (total > maxPoints).' }) bucketed: boolean;
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

  @Get(':id/metrics')
  @ApiOperation({ summary: "Every metric key of the job's run with its latest point and its number of points, sorted by key. 404 before the job starts." })
  @ApiOkResponse({ type: MetricSummariesDto })
  async metrics(@Param('id') id: string): Promise<MetricSummariesDto> {
    const runId = await this.runIdOf(id);
    const rows = await this.tracking.metricSummaries(runId);
    if (!rows) throw new TrackingNotFoundError(`job ${id} has no run on this server`);
    return { metrics: rows.map((m) => ({ key: m.key, latest: { value: num(m.value), step: Number(m.step), timestamp: Number(m.timestamp) }, count: m.count })) };
  }

  @Get(':id/series/*key')
  @ApiOperation({ summary: "One metric as chart columns in step order, min/max-bucketed past maxPoints. The key may hold '/' (train/loss)." })
  @ApiParam({ name: 'key', type: String })
  @ApiOkResponse({ type: MetricSeriesDto })
  async series(@Param('id') id: string, @Param('key') segments: string | string[], @Query() q: MetricSeriesQueryDto): Promise<MetricSeriesDto> {
    const key = Array.isArray(segments) ? segments.join('/') : segments;
    const runId = await this.runIdOf(id);
    const series = await this.tracking.metricSeries(runId, key, { maxPoints: q.maxPoints ?? 2000, afterStep: q.afterStep });
    if (!series) throw new TrackingNotFoundError(`job ${id} has no run on this server`);
    const { points, total, bucketed } = series;
    return {
      key,
      steps: points.map((p) => Number(p.step)),
      values: points.map((p) => num(p.value)),
      timestamps: points.map((p) => Number(p.timestamp)),
      total,
      bucketed,
    };
  }

  private async runIdOf(jobId: string): Promise<string> {
    const job = await this.jobs.get(jobId);
    if (!job.mlflowRunId) throw new TrackingNotFoundError(`job ${jobId} has no run yet`);
    return job.mlflowRunId;
  }
}
