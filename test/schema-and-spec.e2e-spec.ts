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

  type Op = {
    summary?: string;
    tags?: string[];
    security?: unknown[];
    responses: Record<string, { content?: Record<string, { schema?: { $ref?: string } }> }>;
  };
  const doc = () => JSON.parse(readFileSync(join(__dirname, '..', 'openapi.json'), 'utf8')) as { paths: Record<string, Record<string, Op>>; tags?: Array<{ name: string }> };
  const operations = () => Object.entries(doc().paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ path, method, op })));
  const faceSchema = (path: string) =>
    path.startsWith('/api/2.0/') ? 'MlflowError' : path.startsWith('/api/v1/') ? 'V1Error' : path.startsWith('/api/') ? 'DioptraError' : 'V1Error';

  it('lists at least one 4xx for every operation, each with the error body of its face', () => {
    const ops = operations();
    expect(ops.length).toBeGreaterThan(90);
    expect(ops.filter(({ op }) => !Object.keys(op.responses).some((s) => /^4\d\d$/.test(s))).map(({ method, path }) => `${method} ${path}`)).toEqual([]);
    const wrongBody = ops.flatMap(({ path, method, op }) =>
      Object.entries(op.responses)
        .filter(([s, r]) => /^4\d\d$/.test(s) && r.content?.['application/json']?.schema?.$ref !== `#/components/schemas/${faceSchema(path)}`)
        .map(([s]) => `${method} ${path} ${s}`),
    );
    expect(wrongBody).toEqual([]);
  });

  it('documents 401 and 403 on every authenticated operation, 404 where the path names a resource, 413 where there is a body', () => {
    const missing = operations().flatMap(({ path, method, op }) => {
      const want = [...(op.security ? ['401', '403'] : []), ...(/\{[^}]+\}/.test(path) ? ['404'] : [])];
      return want.filter((s) => !op.responses[s]).map((s) => `${method} ${path} ${s}`);
    });
    expect(missing).toEqual([]);
    expect(doc().paths['/api/v1/jobs'].post.responses['413']).toBeDefined();
    expect(doc().paths['/api/v1/experiments'].post.responses['409']).toBeDefined();
    expect(doc().paths['/health'].get.security).toBeUndefined();
  });

  it('gives every operation a summary in words (no internal ids like E3 or J3) and a tag of its face and resource', () => {
    const ops = operations();
    expect(ops.filter(({ op }) => !op.summary || /^[EQJT]\d+\b/.test(op.summary)).map(({ method, path }) => `${method} ${path}`)).toEqual([]);
    const declared = new Set((doc().tags ?? []).map((t) => t.name));
    expect(ops.filter(({ op }) => op.tags?.length !== 1 || !declared.has(op.tags[0])).map(({ method, path }) => `${method} ${path}`)).toEqual([]);
    const tagOf = (method: string, path: string) => doc().paths[path][method].tags![0];
    expect(tagOf('get', '/api/v1/jobs')).toBe('v1: Jobs');
    expect(tagOf('get', '/api/job')).toBe('Dioptra: jobs');
    expect(tagOf('post', '/api/2.0/mlflow/runs/log-batch')).toBe('MLflow: runs');
  });
});
