/**
 * Reads the file list (and small text files) of a workflow archive in the browser: tar, tar.gz/tgz or zip, with the
 * platform's DecompressionStream. Only for showing; the server alone decides whether an archive is acceptable.
 */
export interface ArchiveFile {
  name: string;
  size: number;
  text?: string;
}

const TEXT_LIMIT = 256 * 1024;

async function inflate(data: Uint8Array, format: 'gzip' | 'deflate-raw'): Promise<Uint8Array> {
  const stream = new Blob([data.slice()]).stream().pipeThrough(new DecompressionStream(format));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

function str(b: Uint8Array, from: number, len: number): string {
  let end = from;
  while (end < from + len && b[end] !== 0) end++;
  return new TextDecoder().decode(b.subarray(from, end));
}

function textOf(b: Uint8Array): string | undefined {
  if (b.length > TEXT_LIMIT) return undefined;
  if (b.subarray(0, 8000).includes(0)) return undefined;
  return new TextDecoder('utf-8', { fatal: false }).decode(b);
}

export function readTar(b: Uint8Array): ArchiveFile[] {
  const out: ArchiveFile[] = [];
  let pos = 0;
  let paxPath: string | null = null;
  let longName: string | null = null;
  while (pos + 512 <= b.length) {
    if (b.subarray(pos, pos + 512).every((x) => x === 0)) break;
    const size = parseInt(str(b, pos + 124, 12).trim() || '0', 8);
    const type = String.fromCharCode(b[pos + 156] || 48);
    const prefix = str(b, pos + 345, 155);
    let name = str(b, pos, 100);
    if (prefix) name = `${prefix}/${name}`;
    const body = b.subarray(pos + 512, pos + 512 + size);
    pos += 512 + Math.ceil(size / 512) * 512;
    if (type === 'x') {
      const m = new TextDecoder().decode(body).match(/\d+ path=([^\n]*)\n/);
      paxPath = m ? m[1] : null;
      continue;
    }
    if (type === 'L') {
      longName = str(body, 0, body.length);
      continue;
    }
    name = paxPath ?? longName ?? name;
    paxPath = longName = null;
    if (type === '0' || type === '\0' || type === '7') out.push({ name: name.replace(/^\.\//, ''), size, text: textOf(body) });
  }
  return out;
}

export async function readZip(b: Uint8Array): Promise<ArchiveFile[]> {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let eocd = -1;
  for (let i = b.length - 22; i >= Math.max(0, b.length - 65_557); i--)
    if (v.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  if (eocd < 0) throw new Error('not a zip archive');
  const count = v.getUint16(eocd + 10, true);
  let p = v.getUint32(eocd + 16, true);
  const out: ArchiveFile[] = [];
  for (let n = 0; n < count && v.getUint32(p, true) === 0x02014b50; n++) {
    const method = v.getUint16(p + 10, true);
    const csize = v.getUint32(p + 20, true);
    const size = v.getUint32(p + 24, true);
    const nlen = v.getUint16(p + 28, true);
    const elen = v.getUint16(p + 30, true);
    const clen = v.getUint16(p + 32, true);
    const local = v.getUint32(p + 42, true);
    const name = new TextDecoder().decode(b.subarray(p + 46, p + 46 + nlen));
    p += 46 + nlen + elen + clen;
    if (name.endsWith('/')) continue;
    let text: string | undefined;
    if (size <= TEXT_LIMIT) {
      const start = local + 30 + v.getUint16(local + 26, true) + v.getUint16(local + 28, true);
      const raw = b.subarray(start, start + csize);
      try {
        text = textOf(method === 8 ? await inflate(raw, 'deflate-raw') : method === 0 ? raw : new Uint8Array([0]));
      } catch {
        text = undefined;
      }
    }
    out.push({ name, size, text });
  }
  return out;
}

export async function readArchive(b: Uint8Array, nameHint = ''): Promise<ArchiveFile[]> {
  if (b[0] === 0x50 && b[1] === 0x4b) return readZip(b);
  if (b[0] === 0x1f && b[1] === 0x8b) return readTar(await inflate(b, 'gzip'));
  if (/\.zip$/i.test(nameHint)) return readZip(b);
  return readTar(b);
}
