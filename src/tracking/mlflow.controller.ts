import { Body, Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { AuthUser, CurrentUser, MlflowAuth } from '../common/auth-user';
import { asMessage, keyValues, Message, optInt64, optString, parseDouble, reqString, runIdOf, stringList } from './mlflow-wire';
import {
  experimentJson,
  historyToken,
  metricJson,
  offsetToken,
  parseHistoryToken,
  parseOffsetToken,
  runInfoJson,
  runJson,
} from './mlflow-serializers';
import { parseFilter, parseOrderBy } from './search-filter';
import { TrackingService, ViewType } from './tracking.service';
import { TrackingInvalidError } from './tracking.errors';
import { invalidValue } from './mlflow-wire';
import {
  MetricIn,
  parseExperimentId,
  validateBatchLimits,
  validateExperimentName,
  validateExperimentTag,
  validateMetric,
  validateParam,
  validateTag,
} from './tracking-validation';

type Json = Record<string, unknown>;
const SEE_DOCS = ' See the API docs for more information about request parameters.';
const HISTORY_PAGE = 25000;
const MAX_SEARCH_RESULTS = 50000;

const anyBody = { schema: { type: 'object', additionalProperties: true } };

function viewType(msg: Message, field: string): ViewType {
  const v = msg[field];
  if (v === undefined || v === null || v === '') return 'ACTIVE_ONLY';
  const byNumber: Record<string, ViewType> = { '1': 'ACTIVE_ONLY', '2': 'DELETED_ONLY', '3': 'ALL' };
  const name = typeof v === 'number' ? byNumber[String(v)] : typeof v === 'string' ? (byNumber[v] ?? v) : undefined;
  if (name === 'ACTIVE_ONLY' || name === 'DELETED_ONLY' || name === 'ALL') return name;
  throw new TrackingInvalidError(invalidValue(field, v, 'Valid values are ACTIVE_ONLY, DELETED_ONLY, ALL.'));
}

function maxResults(msg: Message, fallback: number, max: number): number {
  const n = optInt64(msg, 'max_results');
  if (n === undefined || n === 0) return fallback;
  if (n > max) throw new TrackingInvalidError(invalidValue('max_results', n, ` Hint: Value was of type 'int'.`) + SEE_DOCS);
  if (n < 0) throw new TrackingInvalidError(invalidValue('max_results', n, 'Must be a positive integer.'));
  return n;
}

function metricOf(raw: unknown, prefix: string): MetricIn {
  const m = asMessage(raw);
  const value = parseDouble(m.value);
  const timestamp = optInt64Loose(m, 'timestamp');
  const step = optInt64Loose(m, 'step') ?? 0;
  const metric = validateMetric(m.key, value, m.value, timestamp, m.timestamp, step, prefix);
  if (step === -1 && m.step !== -1) {
    throw new TrackingInvalidError(
      invalidValue(prefix ? `${prefix}.step` : 'step', m.step, `metric '${metric.key}' (value=${metric.value}). Step must be a valid long (64-bit integer).`),
    );
  }
  return metric;
}

/** int64 where a bad value is the metric validator's business (it names the metric in its message): -1 then. */
function optInt64Loose(m: Message, field: string): number | undefined {
  try {
    return optInt64(m, field);
  } catch {
    return -1;
  }
}

/**
 * MLflow's tracking REST API (reference §1, §5): thin adapters over TrackingService. Bodies are MLflow's proto JSON,
 * read by hand (mlflow-wire.ts) so that bad input gets MLflow's messages and unknown fields are ignored.
 */
@ApiTags('MLflow tracking')
@ApiBearerAuth()
@MlflowAuth()
@Controller('api/2.0/mlflow')
export class MlflowController {
  constructor(private readonly tracking: TrackingService) {}

  @Get('experiments/get-by-name')
  @ApiQuery({ name: 'experiment_name', required: true, type: String })
  @ApiOperation({ summary: 'experiments/get-by-name: {experiment}; unknown → 404 RESOURCE_DOES_NOT_EXIST.' })
  @ApiOkResponse(anyBody)
  async getExperimentByName(@CurrentUser() actor: AuthUser, @Query() q: Json): Promise<Json> {
    return { experiment: experimentJson(await this.tracking.getExperimentByName(actor, reqString(q, 'experiment_name'))) };
  }

  @Get('experiments/get')
  @ApiQuery({ name: 'experiment_id', required: true, type: String })
  @ApiOperation({ summary: 'experiments/get: {experiment}; unknown → 404.' })
  @ApiOkResponse(anyBody)
  async getExperiment(@CurrentUser() actor: AuthUser, @Query() q: Json): Promise<Json> {
    return { experiment: experimentJson(await this.tracking.getExperiment(actor, parseExperimentId(reqString(q, 'experiment_id')))) };
  }

  @Post('experiments/create')
  @HttpCode(200)
  @ApiOperation({ summary: "experiments/create: an Alidade experiment owned by the caller (Alidade's name rules) → {experiment_id}." })
  @ApiBody(anyBody)
  @ApiOkResponse(anyBody)
  async createExperiment(@CurrentUser() actor: AuthUser, @Body() body: unknown): Promise<Json> {
    const msg = asMessage(body);
    const name = reqString(msg, 'name');
    validateExperimentName(name);
    const tags = keyValues(msg, 'tags').map((t) => validateExperimentTag(t.key, t.value));
    return { experiment_id: String(await this.tracking.createExperiment(actor, name, tags)) };
  }

  @Get('experiments/search')
  @ApiQuery({ name: 'max_results', required: false, type: String })
  @ApiQuery({ name: 'page_token', required: false, type: String })
  @ApiQuery({ name: 'filter', required: false, type: String })
  @ApiQuery({ name: 'view_type', required: false, type: String })
  @ApiOperation({ summary: 'experiments/search (GET form).' })
  @ApiOkResponse(anyBody)
  searchExperimentsGet(@CurrentUser() actor: AuthUser, @Query() q: Json): Promise<Json> {
    return this.searchExperimentsImpl(actor, q);
  }

  @Post('experiments/search')
  @HttpCode(200)
  @ApiOperation({ summary: "experiments/search: filter `name = / != / LIKE / ILIKE '...'`, paged." })
  @ApiBody(anyBody)
  @ApiOkResponse(anyBody)
  searchExperiments(@CurrentUser() actor: AuthUser, @Body() body: unknown): Promise<Json> {
    return this.searchExperimentsImpl(actor, asMessage(body));
  }

  private async searchExperimentsImpl(actor: AuthUser, msg: Message): Promise<Json> {
    const limit = maxResults(msg, 1000, MAX_SEARCH_RESULTS);
    const offset = parseOffsetToken(optString(msg, 'page_token'));
    const filterText = optString(msg, 'filter')?.trim();
    let filter: { op: string; name: string } | undefined;
    if (filterText) {
      const m = /^(?:attribute\.|attributes\.)?(?:name|`name`)\s*(=|!=|LIKE|ILIKE)\s*(['"])(.*)\2$/is.exec(filterText);
      if (!m) throw new TrackingInvalidError(`Invalid filter '${filterText}'. Could not be parsed.`);
      filter = { op: m[1].toUpperCase(), name: m[3] };
    }
    const page = await this.tracking.searchExperiments(actor, { viewType: viewType(msg, 'view_type'), filter, offset, limit });
    return { experiments: page.experiments.map(experimentJson), ...(page.more ? { next_page_token: offsetToken(offset + limit) } : {}) };
  }

  @Post('experiments/set-experiment-tag')
  @HttpCode(200)
  @ApiOperation({ summary: 'experiments/set-experiment-tag → {}.' })
  @ApiBody(anyBody)
  @ApiOkResponse(anyBody)
  async setExperimentTag(@CurrentUser() actor: AuthUser, @Body() body: unknown): Promise<Json> {
    const msg = asMessage(body);
    const id = parseExperimentId(reqString(msg, 'experiment_id'));
    const tag = validateExperimentTag(reqString(msg, 'key'), optString(msg, 'value') ?? '');
    await this.tracking.setExperimentTag(actor, id, tag);
    return {};
  }

  @Post('runs/create')
  @HttpCode(200)
  @ApiOperation({ summary: 'runs/create: RUNNING, owned by the caller (a job token: owned by its job) → {run}.' })
  @ApiBody(anyBody)
  @ApiOkResponse(anyBody)
  async createRun(@CurrentUser() actor: AuthUser, @Body() body: unknown): Promise<Json> {
    const msg = asMessage(body);
    const experimentId = parseExperimentId(optString(msg, 'experiment_id') || '0');
    const tags = keyValues(msg, 'tags').map((t, i) => validateTag(t.key, t.value, `tags[${i}]`));
    const view = await this.tracking.createRun(actor, { experimentId, startTime: optInt64(msg, 'start_time') || undefined, runName: optString(msg, 'run_name'), tags });
    return { run: runJson(view) };
  }

  @Get('runs/get')
  @ApiQuery({ name: 'run_id', required: false, type: String })
  @ApiQuery({ name: 'run_uuid', required: false, type: String })
  @ApiOperation({ summary: 'runs/get?run_id= (or run_uuid=) → {run} with the latest metrics, params and tags.' })
  @ApiOkResponse(anyBody)
  async getRun(@CurrentUser() actor: AuthUser, @Query() q: Json): Promise<Json> {
    return { run: runJson(await this.tracking.getRun(actor, runIdOf(q))) };
  }

  @Post('runs/update')
  @HttpCode(200)
  @ApiOperation({ summary: 'runs/update: status, end_time, run_name (only fields present) → {run_info}.' })
  @ApiBody(anyBody)
  @ApiOkResponse(anyBody)
  async updateRun(@CurrentUser() actor: AuthUser, @Body() body: unknown): Promise<Json> {
    const msg = asMessage(body);
    const status = msg.status;
    const statusName = typeof status === 'number' ? ['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED'][status - 1] ?? String(status) : optString(msg, 'status');
    const run = await this.tracking.updateRun(actor, runIdOf(msg), { status: statusName || undefined, endTime: optInt64(msg, 'end_time'), runName: optString(msg, 'run_name') });
    return { run_info: runInfoJson(run) };
  }

  @Post('runs/delete')
  @HttpCode(200)
  @ApiOperation({ summary: 'runs/delete: lifecycle_stage deleted → {}.' })
  @ApiBody(anyBody)
  @ApiOkResponse(anyBody)
  async deleteRun(@CurrentUser() actor: AuthUser, @Body() body: unknown): Promise<Json> {
    await this.tracking.setRunLifecycle(actor, runIdOf(asMessage(body)), 'deleted');
    return {};
  }

  @Post('runs/restore')
  @HttpCode(200)
  @ApiOperation({ summary: 'runs/restore: lifecycle_stage active → {}.' })
  @ApiBody(anyBody)
  @ApiOkResponse(anyBody)
  async restoreRun(@CurrentUser() actor: AuthUser, @Body() body: unknown): Promise<Json> {
    await this.tracking.setRunLifecycle(actor, runIdOf(asMessage(body)), 'active');
    return {};
  }

  @Post('runs/log-parameter')
  @HttpCode(200)
  @ApiOperation({ summary: 'runs/log-parameter: same key + same value again is fine, another value → 400.' })
  @ApiBody(anyBody)
  @ApiOkResponse(anyBody)
  async logParam(@CurrentUser() actor: AuthUser, @Body() body: unknown): Promise<Json> {
    const msg = asMessage(body);
    const runId = runIdOf(msg);
    const param = validateParam(reqString(msg, 'key'), optString(msg, 'value') ?? '');
    await this.tracking.logBatch(actor, runId, { metrics: [], params: [param], tags: [] }, true);
    return {};
  }

  @Post('runs/log-metric')
  @HttpCode(200)
  @ApiOperation({ summary: 'runs/log-metric: key, value (double, "NaN"/"Infinity" too), timestamp (ms), step.' })
  @ApiBody(anyBody)
  @ApiOkResponse(anyBody)
  async logMetric(@CurrentUser() actor: AuthUser, @Body() body: unknown): Promise<Json> {
    const msg = asMessage(body);
    const runId = runIdOf(msg);
    reqString(msg, 'key');
    for (const f of ['value', 'timestamp']) if (msg[f] === undefined || msg[f] === null || msg[f] === '') throw new TrackingInvalidError(`Missing value for required parameter '${f}'.${SEE_DOCS}`);
    await this.tracking.logBatch(actor, runId, { metrics: [metricOf(msg, '')], params: [], tags: [] });
    return {};
  }

  @Post('runs/log-batch')
  @HttpCode(200)
  @ApiOperation({ summary: 'runs/log-batch: ≤1000 metrics, ≤100 params, ≤100 tags, ≤1000 in all; atomic.' })
  @ApiBody(anyBody)
  @ApiOkResponse(anyBody)
  async logBatch(@CurrentUser() actor: AuthUser, @Body() body: unknown): Promise<Json> {
    const msg = asMessage(body);
    const runId = runIdOf(msg);
    const rawMetrics = keyValuesRaw(msg, 'metrics');
    const rawParams = keyValues(msg, 'params');
    const rawTags = keyValues(msg, 'tags');
    validateBatchLimits(rawMetrics.length, rawParams.length, rawTags.length);
    const metrics = rawMetrics.map((m, i) => metricOf(m, `metrics[${i}]`));
    const params = rawParams.map((p, i) => validateParam(p.key, p.value, `params[${i}]`));
    const tags = rawTags.map((t, i) => validateTag(t.key, t.value, `tags[${i}]`));
    await this.tracking.logBatch(actor, runId, { metrics, params, tags });
    return {};
  }

  @Post('runs/set-tag')
  @HttpCode(200)
  @ApiOperation({ summary: 'runs/set-tag: upsert → {}.' })
  @ApiBody(anyBody)
  @ApiOkResponse(anyBody)
  async setTag(@CurrentUser() actor: AuthUser, @Body() body: unknown): Promise<Json> {
    const msg = asMessage(body);
    const runId = runIdOf(msg);
    const tag = validateTag(reqString(msg, 'key'), optString(msg, 'value') ?? '');
    await this.tracking.logBatch(actor, runId, { metrics: [], params: [], tags: [tag] });
    return {};
  }

  @Post('runs/delete-tag')
  @HttpCode(200)
  @ApiOperation({ summary: 'runs/delete-tag: unknown tag → 404.' })
  @ApiBody(anyBody)
  @ApiOkResponse(anyBody)
  async deleteTag(@CurrentUser() actor: AuthUser, @Body() body: unknown): Promise<Json> {
    const msg = asMessage(body);
    await this.tracking.deleteTag(actor, runIdOf(msg), reqString(msg, 'key'));
    return {};
  }

  @Get('metrics/get-history')
  @ApiQuery({ name: 'run_id', required: false, type: String })
  @ApiQuery({ name: 'run_uuid', required: false, type: String })
  @ApiQuery({ name: 'metric_key', required: true, type: String })
  @ApiQuery({ name: 'max_results', required: false, type: String })
  @ApiQuery({ name: 'page_token', required: false, type: String })
  @ApiOperation({ summary: 'metrics/get-history: every point in (timestamp, step, value) order, 25000 a page.' })
  @ApiOkResponse(anyBody)
  async metricHistory(@CurrentUser() actor: AuthUser, @Query() q: Json): Promise<Json> {
    const runId = runIdOf(q);
    const key = reqString(q, 'metric_key');
    const limit = Math.min(maxResults(q, HISTORY_PAGE, Number.MAX_SAFE_INTEGER), HISTORY_PAGE);
    const page = await this.tracking.metricHistory(actor, runId, key, parseHistoryToken(optString(q, 'page_token')), limit);
    if (page.points.length === 0) return {};
    return { metrics: page.points.map(metricJson), ...(page.more ? { next_page_token: historyToken(page.points[page.points.length - 1]) } : {}) };
  }

  @Post('runs/search')
  @HttpCode(200)
  @ApiOperation({ summary: 'runs/search: filter (metrics/params/tags/attributes, AND only) and order_by of reference §9, paged.' })
  @ApiBody(anyBody)
  @ApiOkResponse(anyBody)
  async searchRuns(@CurrentUser() actor: AuthUser, @Body() body: unknown): Promise<Json> {
    const msg = asMessage(body);
    const experimentIds = stringList(msg, 'experiment_ids').map(parseExperimentId);
    const limit = maxResults(msg, 1000, MAX_SEARCH_RESULTS);
    const offset = parseOffsetToken(optString(msg, 'page_token'));
    const page = await this.tracking.searchRuns(actor, {
      experimentIds,
      viewType: viewType(msg, 'run_view_type'),
      clauses: parseFilter(optString(msg, 'filter')),
      order: parseOrderBy(stringList(msg, 'order_by')),
      offset,
      limit,
    });
    return { ...(page.runs.length ? { runs: page.runs.map(runJson) } : {}), ...(page.more ? { next_page_token: offsetToken(offset + limit) } : {}) };
  }

  @Post('logged-models/search')
  @HttpCode(200)
  @ApiOperation({ summary: 'logged-models/search: no logged models are stored yet → {"models": []}.' })
  @ApiBody(anyBody)
  @ApiOkResponse(anyBody)
  searchLoggedModels(): Json {
    return { models: [] };
  }
}

function keyValuesRaw(msg: Message, field: string): unknown[] {
  const v = msg[field];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new TrackingInvalidError(invalidValue(field, v, ` Hint: Value was of type 'dict'.`) + SEE_DOCS);
  return v;
}
