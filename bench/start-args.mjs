// The node flags the npm start scripts give the server (the heap limit), so the benches start it the same way.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** `node --max-old-space-size=160 dist/main.js api` (package.json `start:api`) → ['--max-old-space-size=160']. */
export function startScriptNodeArgs(script) {
  const command = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts[script];
  const m = /^node\s+(.*?)\s*dist\/main\.js/.exec(command ?? '');
  if (!m) throw new Error(`package.json script ${script} does not start node dist/main.js: ${command}`);
  return m[1].split(/\s+/).filter(Boolean);
}
