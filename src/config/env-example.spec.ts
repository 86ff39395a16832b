import { getMetadataStorage } from 'class-validator';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EnvSchema, loadConfig } from './config';

/** `KEY=value` lines of .env.example (comments and blank lines skipped). */
function exampleVariables(): Record<string, string> {
  const text = readFileSync(join(__dirname, '..', '..', '.env.example'), 'utf8');
  const vars: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (m) vars[m[1]] = m[2];
  }
  return vars;
}

describe('.env.example', () => {
  it('lists every variable the configuration validates, and nothing else', () => {
    const schema = [...new Set(getMetadataStorage().getTargetValidationMetadatas(EnvSchema, '', true, false).map((m) => m.propertyName))].sort();
    expect(schema.length).toBeGreaterThan(20);
    expect(Object.keys(exampleVariables()).sort()).toEqual(schema);
  });

  it('shows the defaults: copied to .env unchanged, it configures exactly what no variable at all does', () => {
    expect(loadConfig(exampleVariables())).toEqual(loadConfig({}));
  });
});
