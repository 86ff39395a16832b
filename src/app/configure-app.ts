import { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import express, { type Express } from 'express';
import { readdirSync } from 'node:fs';
import { RouteIndex } from '../common/errors/route-index';
import { JSON_BODY_LIMIT, rawUrlGuard, verifyRawBody } from '../common/input-guards';

/** The OpenAPI document generated from the controllers' decorators. */
export function buildOpenApi(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Alidade')
    .setDescription(
      'Testbed job server for machine-learning security labs. `/api/v1` is the native API (bearer tokens: log in with ' +
        '`POST /api/v1/auth/login`, then Authorize). `/api/experiment/`, `/api/job/`, `/api/queue/`, `/api/taskPlugin/` ' +
        'are the Dioptra 0.x testbed API.',
    )
    .setVersion('1')
    .addBearerAuth()
    .build();
  return SwaggerModule.createDocument(app, config, { operationIdFactory: (controller, method) => `${controller.replace(/Controller$/, '')}_${method}` });
}

/**
 * Everything main.ts and the tests both need on top of the module graph: the hostile-input guards on the raw URL and
 * bodies (common/input-guards.ts), Swagger UI and the 405 route table.
 */
export async function configureApp(app: INestApplication): Promise<void> {
  const server = app.getHttpAdapter().getInstance() as Express;
  server.disable('x-powered-by');
  server.set('query parser', 'extended');
  server.use(rawUrlGuard);
  // Registered before init, so Nest's own defaults (100 kB, no verify) are skipped.
  const nest = app as NestExpressApplication;
  nest.useBodyParser('json', { limit: JSON_BODY_LIMIT, verify: verifyRawBody });
  nest.useBodyParser('urlencoded', { extended: true, limit: JSON_BODY_LIMIT, verify: verifyRawBody });
  const document = buildOpenApi(app);
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
