import { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import express, { type Express } from 'express';
import { readdirSync } from 'node:fs';
import { RouteIndex } from '../common/errors/route-index';
import { mountDashboard } from './dashboard';
import { AppConfig } from '../config/config';
import { JSON_BODY_LIMIT, rawUrlGuard, verifyRawBody } from '../common/input-guards';
import { refineOpenApi, routeAuth } from './openapi-document';

/** The OpenAPI document generated from the controllers' decorators, refined by the rules of openapi-document.ts. */
export function buildOpenApi(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Alidade')
    .setDescription(
      'Testbed job server for machine-learning security labs. `/api/v1` is the native API (bearer tokens: log in with ' +
        '`POST /api/v1/auth/login`, then Authorize). `/api/experiment/`, `/api/job/`, `/api/queue/`, `/api/taskPlugin/` ' +
        'are the Dioptra 0.x testbed API. `/api/2.0/mlflow/...` and `/api/2.0/mlflow-artifacts/...` are MLflow\'s ' +
        'tracking API (tag "MLflow tracking"): point `MLFLOW_TRACKING_URI` at this server.',
    )
    .setVersion('1')
    .addBearerAuth()
    .build();
  const document = SwaggerModule.createDocument(app, config, { operationIdFactory: (controller, method) => `${controller.replace(/Controller$/, '')}_${method}` });
  return refineOpenApi(document, routeAuth(app));
}

/**
 * Everything main.ts and the tests both need on top of the module graph: the hostile-input guards on the raw URL and
 * bodies (common/input-guards.ts), Swagger UI and the 405 route table.
 */
export async function configureApp(app: INestApplication): Promise<void> {
  const server = app.getHttpAdapter().getInstance() as Express;
  server.disable('x-powered-by');
  server.set('query parser', 'extended');
  // The client address (login rate limit, logs) behind a reverse proxy: X-Forwarded-For only from trusted proxies.
  server.set('trust proxy', app.get(AppConfig).trustProxy);
  // First: a raw URL with bad text is refused before any body is read.
  server.use(rawUrlGuard);
  mountMlflowBodyParsing(server);
  // Registered before init, so Nest's own defaults (100 kB, no verify) are skipped.
  const nest = app as NestExpressApplication;
  nest.useBodyParser('json', { limit: JSON_BODY_LIMIT, verify: verifyRawBody });
  nest.useBodyParser('urlencoded', { extended: true, limit: JSON_BODY_LIMIT, verify: verifyRawBody });
  const document = buildOpenApi(app);
  mountDashboard(server, { authDisabled: app.get(AppConfig).authDisabled });
  serveUiAssetsByName(app, server);
  SwaggerModule.setup('/', app, document, { jsonDocumentUrl: 'openapi.json', customSiteTitle: 'Alidade API' });
  server.get('/swagger.json', (_req, res) => {
    res.json(document);
  });
  await app.init();
  const index = app.get(RouteIndex);
  const router = (server as unknown as { router: { stack: Array<{ route?: { path: string; methods: Record<string, boolean> } }> } }).router;
  for (const layer of router.stack) {
    if (!layer.route) continue;
    for (const method of Object.keys(layer.route.methods)) if (method !== '_all') index.add(layer.route.path, method);
  }
}

/** JSON body limit of the MLflow face: MLflow documents 1 MB for log-batch; a 1000-metric batch is ~100 kB. */
export const MLFLOW_JSON_LIMIT = 4 * 1024 * 1024;

/**
 * The MLflow face parses its own bodies, ahead of the app-wide parsers (which then skip a parsed request): JSON of
 * any content type (MLflow's server reads `get_json(force=True)`) up to MLFLOW_JSON_LIMIT; artifact uploads are
 * never parsed, they stream to the blob store.
 */
function mountMlflowBodyParsing(server: Express): void {
  // Wrapped: Nest skips its own JSON parser when a middleware named `jsonParser` (express.json's name) is mounted.
  const json = express.json({ limit: MLFLOW_JSON_LIMIT, type: () => true, verify: verifyRawBody });
  server.use('/api/2.0/mlflow', function mlflowJsonBody(req, res, next) {
    json(req, res, next);
  });
  server.use('/api/2.0/mlflow-artifacts', (req, _res, next) => {
    // The body parsers decide by Content-Type; an upload's is a guess (text/plain, application/json...) and unused.
    delete req.headers['content-type'];
    next();
  });
}

/**
 * Swagger UI lives at `/`, so SwaggerModule mounts its static files at `/`, where express.static would stat the disk
 * before every API request (measured: 10% of an authenticated GET's CPU). Serve them only under their own names.
 */
function serveUiAssetsByName(app: INestApplication, server: Express): void {
  const adapter = app.getHttpAdapter() as unknown as { useStaticAssets: (root: string) => void };
  adapter.useStaticAssets = (root: string) => {
    const names = new Set(readdirSync(root));
    const assets = express.static(root, { index: false });
    server.use((req, res, next) => ((req.method === 'GET' || req.method === 'HEAD') && names.has(req.path.slice(1)) ? assets(req, res, next) : next()));
  };
}
