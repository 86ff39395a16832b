#!/usr/bin/env node
// Writes <file>.br and <file>.gz beside each text asset of the built dashboard (node's zlib, no dependency), so the
// server sends precompressed bytes by Accept-Encoding instead of compressing per request.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const root = process.argv[2] ?? 'dist/ui';
const TEXT = /\.(js|css|html|svg|json|map|txt)$/;

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

let files = 0;
let raw = 0;
let br = 0;
for (const path of walk(root)) {
  if (!TEXT.test(path)) continue;
  const data = readFileSync(path);
  const b = brotliCompressSync(data, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: data.length } });
  writeFileSync(`${path}.br`, b);
  writeFileSync(`${path}.gz`, gzipSync(data, { level: 9 }));
  files++;
  raw += data.length;
  br += b.length;
}
console.log(`precompress: ${files} files in ${root}, ${(raw / 1024).toFixed(1)} KiB → ${(br / 1024).toFixed(1)} KiB brotli`);
