// The rules that make the generated OpenAPI document usable from Swagger UI, applied once to the whole document
// instead of a decorator stack on each of ~95 operations: error responses (from the route's auth metadata, its path
// parameters and body), each face's error body, tags by face and resource, summaries in words, examples.
import type { INestApplication } from '@nestjs/common';
import { METHOD_METADATA } from '@nestjs/common/constants';
import { ModulesContainer } from '@nestjs/core';
import type { OpenAPIObject } from '@nestjs/swagger';
import { IS_ADMIN_ONLY, IS_PUBLIC } from '../common/auth-user';

type Op = {
  operationId?: string;
  summary?: string;
  tags?: string[];
  parameters?: Array<{ in: string; name: string }>;
  requestBody?: { content?: Record<string, unknown> };
  responses: Record<string, { description: string; content?: Record<string, unknown> }>;
  security?: Array<Record<string, string[]>>;
};

type Face = 'v1' | 'dioptra' | 'mlflow' | 'health';

const ERROR_SCHEMAS = {
  V1Error: {
    type: 'object',
    description: "The native API's error body (API.md §1)",
    required: ['statusCode', 'error', 'code', 'message'],
    properties: {
      statusCode: { type: 'integer', example: 404 },
      error: { type: 'string', example: 'Not Found' },
      code: { type: 'string', example: 'JOB_NOT_FOUND', description: 'A stable code: VALIDATION_FAILED, PERMISSION_DENIED, EXPERIMENT_NOT_FOUND, ...' },
      message: { type: 'string', example: 'job 0a1b2c3d-... not found' },
      details: { type: 'object', description: 'VALIDATION_FAILED: `fields`, each field with its messages', additionalProperties: true },
      errorId: { type: 'string', description: 'Only on 500: the id of the log line that says what happened' },
    },
  },
  DioptraError: {
    type: 'object',
    description: "Dioptra 0.x's error body",
    required: ['message'],
    properties: {
      message: { type: 'string', example: 'Not Found - The requested experiment does not exist' },
      detail: { type: 'string', description: 'What exactly was wrong, when Dioptra would say it' },
    },
  },
  MlflowError: {
    type: 'object',
    description: "MLflow's error body (the mlflow client branches on error_code)",
    required: ['error_code', 'message'],
    properties: {
      error_code: { type: 'string', example: 'RESOURCE_DOES_NOT_EXIST', description: 'INVALID_PARAMETER_VALUE, RESOURCE_DOES_NOT_EXIST, RESOURCE_ALREADY_EXISTS, PERMISSION_DENIED, UNAUTHENTICATED, ...' },
      message: { type: 'string', example: "Run with id=0123456789abcdef0123456789abcdef not found" },
    },
  },
} as const;

const FACE_SCHEMA: Record<Exclude<Face, 'health'>, keyof typeof ERROR_SCHEMAS> = { v1: 'V1Error', dioptra: 'DioptraError', mlflow: 'MlflowError' };

const WHY: Record<string, string> = {
  '400': 'Invalid input: a parameter or field fails validation, or the request is refused in this state',
  '401': 'No token, or a token that is invalid, expired or revoked',
  '403': 'Authenticated but not allowed: not the owner or an admin, an admin-only route, a job token outside the MLflow face, or a locked queue',
  '404': 'The resource named in the path does not exist',
  '409': 'The name is taken (names of deleted resources stay reserved)',
  '413': 'The body is larger than the limit the error names',
};

/** v1 creates and renames of a named resource: the only 409s (Dioptra and MLflow answer a taken name with 400). */
const CONFLICTS = [/^post \/api\/v1\/(users|experiments|queues|task-plugins)$/, /^patch \/api\/v1\/(experiments|queues)\/\{id\}$/];

/** MLflow operations that name nothing that could be missing. */
const MLFLOW_NO_404 = /\/(experiments\/search|logged-models\/search|experiments\/create)$/;

const DIOPTRA_ID = /^[EQJT]\d+(\s*\(classic\))?\s*:?\s*/;

const V1_TAG_ORDER = ['Authentication', 'Users', 'Tokens', 'Experiments', 'Queues', 'Task plugins', 'Jobs'];
const TAGS = [
  ...V1_TAG_ORDER.map((t) => ({ name: `v1: ${t}`, description: `Native API (/api/v1): ${t.toLowerCase()}` })),
  ...['experiments', 'queues', 'jobs', 'task plugins'].map((t) => ({ name: `Dioptra: ${t}`, description: `Dioptra 0.x testbed API: ${t}` })),
  ...['experiments', 'runs', 'metrics', 'artifacts', 'logged models'].map((t) => ({ name: `MLflow: ${t}`, description: `MLflow tracking API: ${t}` })),
  { name: 'Health', description: 'Liveness and readiness (no token)' },
];

/** Examples on the main request and response bodies, by schema name. */
const EXAMPLES: Record<string, unknown> = {
  LoginDto: { username: 'admin', password: 'change-me-please' },
  LoginReplyDto: {
    token: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9...',
    user: { id: 1, username: 'admin', displayName: null, admin: true, active: true, createdAt: '2026-01-05T10:00:00.000Z', modifiedAt: '2026-01-05T10:00:00.000Z', lastAuthAt: null },
  },
  CreateExperimentDto: { name: 'mnist', description: 'MNIST attacks', labels: ['demo'] },
  CreateQueueDto: { name: 'tensorflow_cpu', description: 'CPU workers' },
  CreateTokenDto: { description: 'CI pipeline', lifespan: '30d' },
  SubmitJobFormDto: { experimentName: 'mnist', queue: 'tensorflow_cpu', entryPoint: 'main', entryPointKwargs: '-P message=hello -P epochs=3', timeout: '24h', workflow: '(workflows.tar.gz)' },
  DioptraSubmitJobFormDto: { experimentName: 'mnist', queue: 'tensorflow_cpu', entryPoint: 'main', entryPointKwargs: '-P message=hello', workflow: '(workflows.tar.gz)' },
  JobDto: {
    id: '6f1c2a4e-8d3b-4c5a-9e7f-0a1b2c3d4e5f',
    experimentId: 1,
    experimentName: 'mnist',
    queueId: 1,
    queueName: 'tensorflow_cpu',
    username: 'admin',
    status: 'finished',
    entryPoint: 'main',
    entryPointKwargs: '-P message=hello -P epochs=3',
    parameters: { message: 'hello', epochs: '3' },
    dependsOn: null,
    timeout: '24h',
    workflowUri: 'db://workflow/0123456789abcdef0123456789abcdef/workflows.tar.gz',
    mlflowRunId: '0123456789abcdef0123456789abcdef',
    createdAt: '2026-01-05T10:00:00.000Z',
    lastModified: '2026-01-05T10:00:03.000Z',
    startedAt: '2026-01-05T10:00:00.100Z',
    endedAt: '2026-01-05T10:00:03.000Z',
    exitCode: 0,
    failureReason: null,
  },
  ExperimentDto: {
    id: 1,
    name: 'mnist',
    description: 'MNIST attacks',
    labels: ['demo'],
    archived: false,
    state: 'ACTIVE',
    numTrials: 3,
    progress: 0,
    username: 'admin',
    startTime: '2026-01-05T10:00:00.000Z',
    endTime: null,
    lastModified: '2026-01-05T10:00:00.000Z',
  },
  QueueDto: {
    id: 1,
    name: 'tensorflow_cpu',
    description: 'CPU workers',
    locked: false,
    lockedAt: null,
    createdAt: '2026-01-05T10:00:00.000Z',
    lastModified: '2026-01-05T10:00:00.000Z',
    jobCounts: { queued: 0, deferred: 0, started: 1 },
    network: null,
    devices: [],
  },
};

/** The face of a path, as the error filter picks it (MLflow's /api/2.0 first: it lies inside Dioptra's /api). */
function faceOf(path: string): Face {
  if (path.startsWith('/api/2.0/')) return 'mlflow';
  if (path.startsWith('/api/v1/')) return 'v1';
  if (path.startsWith('/api/')) return 'dioptra';
  return 'health';
}

/** operationId (Controller_method, as buildOpenApi names them) → the route's auth metadata. */
export function routeAuth(app: INestApplication): Map<string, { public: boolean; adminOnly: boolean }> {
  const out = new Map<string, { public: boolean; adminOnly: boolean }>();
  for (const mod of app.get(ModulesContainer).values()) {
    for (const wrapper of mod.controllers.values()) {
      const cls = wrapper.metatype as (new (...a: unknown[]) => unknown) | null;
      if (!cls) continue;
      for (const name of Object.getOwnPropertyNames(cls.prototype)) {
        const handler = (cls.prototype as Record<string, unknown>)[name];
        if (name === 'constructor' || typeof handler !== 'function' || Reflect.getMetadata(METHOD_METADATA, handler) === undefined) continue;
        const meta = (key: string) => Boolean(Reflect.getMetadata(key, handler) ?? Reflect.getMetadata(key, cls));
        out.set(`${cls.name.replace(/Controller$/, '')}_${name}`, { public: meta(IS_PUBLIC), adminOnly: meta(IS_ADMIN_ONLY) });
      }
    }
  }
  return out;
}

function tagOf(face: Face, path: string, current: string | undefined): string {
  if (face === 'health') return 'Health';
  if (face === 'dioptra') return current ?? 'Dioptra: experiments';
  if (face === 'mlflow') {
    if (path.startsWith('/api/2.0/mlflow-artifacts/')) return 'MLflow: artifacts';
    const resource = path.split('/')[4] ?? 'runs';
    return { experiments: 'MLflow: experiments', runs: 'MLflow: runs', metrics: 'MLflow: metrics', 'logged-models': 'MLflow: logged models' }[resource] ?? 'MLflow: runs';
  }
  const base = current && V1_TAG_ORDER.includes(current) ? current : 'Jobs';
  return `v1: ${base}`;
}

/** A summary for an operation that has none: the method and the resource, in words. */
function defaultSummary(method: string, path: string): string {
  const parts = path.split('/').filter(Boolean);
  const last = parts[parts.length - 1];
  const isParam = last.startsWith('{');
  const resource = (isParam ? parts[parts.length - 2] : last).replace(/s$/, '').replace(/-/g, ' ');
  const article = /^[aeiou]/.test(resource) ? 'an' : 'a';
  if (method === 'get' && isParam) return `Get ${article} ${resource} by ${last.slice(1, -1)}.`;
  if (method === 'get') return `List ${resource}s.`;
  if (!isParam && method === 'post' && parts.length > 3) return `${last[0].toUpperCase()}${last.slice(1)} ${article} ${parts[parts.length - 3]?.replace(/s$/, '') ?? resource}.`;
  return `${method.toUpperCase()} ${path}`;
}

/** Applies the rules above to a document made by SwaggerModule.createDocument. */
export function refineOpenApi(doc: OpenAPIObject, auth: Map<string, { public: boolean; adminOnly: boolean }>): OpenAPIObject {
  doc.components ??= {};
  doc.components.schemas ??= {};
  Object.assign(doc.components.schemas, ERROR_SCHEMAS);
  for (const [name, example] of Object.entries(EXAMPLES)) {
    const schema = doc.components.schemas[name] as { example?: unknown } | undefined;
    if (schema) schema.example = example;
  }
  doc.tags = TAGS;
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, raw] of Object.entries(item as Record<string, Op>)) {
      const op = raw;
      const face = faceOf(path);
      const flags = auth.get(op.operationId ?? '') ?? { public: face === 'health', adminOnly: false };
      op.tags = [tagOf(face, path, op.tags?.[0])];
      const given = op.summary ?? '';
      const summary = given.replace(DIOPTRA_ID, '').trim();
      if (!summary) op.summary = defaultSummary(method, path);
      else if (summary !== given) op.summary = `${summary[0].toUpperCase()}${summary.slice(1)}`;
      if (!flags.public && !op.security) op.security = [{ bearer: [] }];
      const statuses: string[] = [];
      const hasInput = (op.parameters?.length ?? 0) > 0 || op.requestBody !== undefined;
      // Every route refuses a URL it cannot read (NUL bytes, invalid UTF-8: common/input-guards.ts) with a 400.
      statuses.push('400');
      if (!flags.public) statuses.push('401', '403');
      if (op.parameters?.some((p) => p.in === 'path') || (face === 'mlflow' && !MLFLOW_NO_404.test(path))) statuses.push('404');
      if (CONFLICTS.some((re) => re.test(`${method} ${path}`))) statuses.push('409');
      if (op.requestBody) statuses.push('413');
      const body = { 'application/json': { schema: { $ref: `#/components/schemas/${face === 'health' ? 'V1Error' : FACE_SCHEMA[face]}` } } };
      // Hand-written 4xx responses (a 429 with its Retry-After) get the face's body too.
      for (const [status, response] of Object.entries(op.responses)) if (/^4\d\d$/.test(status) && !response.content) response.content = body;
      for (const status of statuses) {
        if (op.responses[status]) continue;
        const why =
          status === '403' && flags.adminOnly
            ? 'Admins only (or a job token outside the MLflow face)'
            : status === '400' && !hasInput
              ? 'The URL holds text that cannot be read (NUL bytes, invalid UTF-8)'
              : status === '404' && face === 'mlflow'
                ? 'An experiment, run, metric or artifact named in the request does not exist (RESOURCE_DOES_NOT_EXIST)'
                : WHY[status];
        op.responses[status] = { description: why, content: body };
      }
    }
  }
  return doc;
}
