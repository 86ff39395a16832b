// Writes (or with --check, compares) the committed OpenAPI document, generated from the built code's decorators.
// Uses Nest's preview mode: the module graph is scanned without connecting to Postgres or Redis.
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppModule } from './app/app.module';
import { buildOpenApi } from './app/configure-app';
import { loadConfig } from './config/config';

export const OPENAPI_FILE = join(__dirname, '..', 'openapi.json');

async function main() {
  const config = loadConfig({ JWT_SECRET: 'x'.repeat(32), DATABASE_URL: 'postgres://preview/none', REDIS_URL: 'redis://preview:1' }, 'api');
  const app = await NestFactory.create(AppModule.forRole('api', config), { preview: true, logger: false, abortOnError: false });
  const spec = `${JSON.stringify(buildOpenApi(app), null, 2)}\n`;
  if (process.argv.includes('--check')) {
    const committed = readFileSync(OPENAPI_FILE, 'utf8');
    if (committed !== spec) {
      new Logger('openapi').error('openapi.json differs from the code: run `npm run build && npm run openapi:write` and commit it');
      process.exit(1);
    }
  } else {
    writeFileSync(OPENAPI_FILE, spec);
  }
}
void main();
