import { execFileSync } from 'node:child_process';
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
});
