import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sweepStaleSpools } from './upload-spool';

describe('sweepStaleSpools', () => {
  let base: string;
  beforeEach(() => (base = mkdtempSync(join(tmpdir(), 'alidade-sweep-'))));
  afterEach(() => rmSync(base, { recursive: true, force: true }));

  it('removes spool directories older than the bound, keeps fresh ones and anything not a spool directory', async () => {
    const old = new Date(Date.now() - 2 * 24 * 3600 * 1000);
    for (const name of ['upload-old', 'upload-new', 'other-old']) {
      mkdirSync(join(base, name));
      writeFileSync(join(base, name, 'part'), 'x');
    }
    utimesSync(join(base, 'upload-old'), old, old);
    utimesSync(join(base, 'other-old'), old, old);
    expect(await sweepStaleSpools(base)).toBe(1);
    expect(['upload-old', 'upload-new', 'other-old'].map((n) => existsSync(join(base, n)))).toEqual([false, true, true]);
  });

  it('is a no-op when nothing was ever spooled', async () => {
    expect(await sweepStaleSpools(join(base, 'missing'))).toBe(0);
  });
});
