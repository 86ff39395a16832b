import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { typeOrmOptions } from '../src/database/typeorm-options';
import { migrateWithLock } from '../src/database/migrate';
import { createDatabase } from './utils/harness';

describe('migrations', () => {
  it('bring an empty database exactly to the entities (no drift), twice in parallel without racing', async () => {
    const url = await createDatabase();
    const a = await new DataSource(typeOrmOptions(url, 2)).initialize();
    const b = await new DataSource(typeOrmOptions(url, 2)).initialize();
    try {
      await Promise.all([migrateWithLock(a), migrateWithLock(b)]);
      const pending = await a.driver.createSchemaBuilder().log();
      expect(pending.upQueries.map((q) => q.query)).toEqual([]);
      const applied = await a.query('SELECT name FROM migrations');
      expect(applied.length).toBe(a.migrations.length);
    } finally {
      await a.destroy();
      await b.destroy();
    }
  });
});

describe('OpenAPI document', () => {
  it('matches the committed openapi.json (regenerate with `npm run openapi:write`)', () => {
    // Built from dist (npm test builds first) so the Swagger CLI plugin has documented every DTO.
    expect(() => execFileSync(process.execPath, [join(__dirname, '..', 'dist', 'openapi.js'), '--check'], { stdio: 'pipe' })).not.toThrow();
  });

  it('marks no header parameter required (Swagger UI could not try such a route without inventing one)', () => {
    const doc = JSON.parse(readFileSync(join(__dirname, '..', 'openapi.json'), 'utf8')) as {
      paths: Record<string, Record<string, { parameters?: Array<{ in: string; name: string; required?: boolean }> }>>;
    };
    const required = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops).flatMap(([method, op]) => (op.parameters ?? []).filter((p) => p.in === 'header' && p.required).map((p) => `${method} ${path} ${p.name}`)),
    );
    expect(required).toEqual([]);
  });
});
