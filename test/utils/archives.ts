// Archive builders for tests. Python's tarfile/zipfile write whatever they are told, so these can also build the
// hostile archives (`../x`, `/abs/x`, links out, fifos, 20k entries) that Node's own archivers refuse to make.
// Members are written in key order (note: JavaScript puts integer-like keys such as "1" first).
import { execFileSync } from 'node:child_process';

export type Member =
  | string
  | Buffer
  | { type: 'symlink' | 'hardlink'; target: string }
  | { type: 'dir' }
  | { type: 'fifo' | 'chardev' }
  | { content: string | Buffer; mode: number };

interface WireMember {
  name: string;
  kind: 'file' | 'dir' | 'symlink' | 'hardlink' | 'fifo' | 'chardev';
  data?: string; // base64
  mode?: number;
  target?: string;
}

const SCRIPT = String.raw`
import base64, io, json, stat, sys, tarfile, zipfile
spec = json.load(sys.stdin)
out = io.BytesIO()
if spec['format'] == 'zip':
    with zipfile.ZipFile(out, 'w', zipfile.ZIP_DEFLATED) as z:
        for m in spec['members']:
            kind, data = m['kind'], base64.b64decode(m.get('data', ''))
            info = zipfile.ZipInfo(m['name'] + ('/' if kind == 'dir' and not m['name'].endswith('/') else ''))
            info.create_system = 3
            info.compress_type = zipfile.ZIP_DEFLATED
            fmt = {'file': stat.S_IFREG, 'dir': stat.S_IFDIR, 'symlink': stat.S_IFLNK,
                   'fifo': stat.S_IFIFO, 'chardev': stat.S_IFCHR}[kind]
            info.external_attr = (fmt | m.get('mode', 0o755 if kind == 'dir' else 0o644)) << 16
            if kind == 'symlink':
                data = m['target'].encode()
            z.writestr(info, data)
else:
    with tarfile.open(fileobj=out, mode='w:gz' if spec['gzip'] else 'w', format=tarfile.PAX_FORMAT) as t:
        for m in spec['members']:
            kind, data = m['kind'], base64.b64decode(m.get('data', ''))
            info = tarfile.TarInfo(m['name'])
            info.type = {'file': tarfile.REGTYPE, 'dir': tarfile.DIRTYPE, 'symlink': tarfile.SYMTYPE,
                         'hardlink': tarfile.LNKTYPE, 'fifo': tarfile.FIFOTYPE, 'chardev': tarfile.CHRTYPE}[kind]
            info.mode = m.get('mode', 0o755 if kind == 'dir' else 0o644)
            info.linkname = m.get('target', '')
            info.size = len(data) if kind == 'file' else 0
            t.addfile(info, io.BytesIO(data) if kind == 'file' else None)
sys.stdout.buffer.write(out.getvalue())
`;

function wire(members: Record<string, Member>): WireMember[] {
  return Object.entries(members).map(([name, m]): WireMember => {
    if (typeof m === 'string' || Buffer.isBuffer(m)) return { name, kind: 'file', data: Buffer.from(m).toString('base64') };
    if ('content' in m) return { name, kind: 'file', data: Buffer.from(m.content).toString('base64'), mode: m.mode };
    if (m.type === 'symlink' || m.type === 'hardlink') return { name, kind: m.type, target: m.target };
    return { name, kind: m.type };
  });
}

function build(spec: { format: 'tar' | 'zip'; gzip?: boolean; members: WireMember[] }): Buffer {
  return execFileSync('python3', ['-c', SCRIPT], { input: JSON.stringify(spec), maxBuffer: 1 << 30 });
}

/** A tar.gz (or, with `gzip: false`, a plain tar) holding `members` in key order. */
export function makeTarGz(members: Record<string, Member>, opts: { gzip?: boolean } = {}): Buffer {
  return build({ format: 'tar', gzip: opts.gzip ?? true, members: wire(members) });
}

/** A zip holding `members` in key order (zip has no hardlinks; symlinks are stored the Info-ZIP way). */
export function makeZip(members: Record<string, Member>): Buffer {
  if (Object.values(members).some((m) => typeof m === 'object' && 'type' in m && m.type === 'hardlink')) {
    throw new Error('makeZip: zip archives have no hardlinks');
  }
  return build({ format: 'zip', members: wire(members) });
}
