import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import type { Express } from 'express';
import { RouteIndex } from '../common/errors/route-index';

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

/** Everything main.ts and the tests both need on top of the module graph: Swagger UI and the 405 route table. */
export async function configureApp(app: INestApplication): Promise<void> {
  const express = app.getHttpAdapter().getInstance() as Express;
  express.disable('x-powered-by');
  express.set('query parser', 'extended');
  const document = buildOpenApi(app);
  SwaggerModule.setup('/', app, document, { jsonDocumentUrl: 'openapi.json', customSiteTitle: 'Alidade API' });
  express.get('/swagger.json', (_req, res) => {
    res.json(document);
  });
  await app.init();
  const index = app.get(RouteIndex);
  const router = (express as unknown as { router: { stack: Array<{ route?: { path: string; methods: Record<string, boolean> } }> } }).router;
  for (const layer of router.stack) {
    if (!layer.route) continue;
    for (const method of Object.keys(layer.route.methods)) if (method !== '_all') index.add(layer.route.path, method);
  }
}
