import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UidPool } from './uid-pool';

describe('UidPool', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'alidade-uids-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('never hands one uid to two holders, also across pools sharing the lock directory (two workers)', () => {
    const a = new UidPool(300000, 300003, dir);
    const b = new UidPool(300000, 300003, dir);
    const got = [a.acquire(), b.acquire(), a.acquire(), b.acquire()];
    expect(new Set(got).size).toBe(4);
    expect(() => a.acquire()).toThrow(/no free job uid in JOB_UID_RANGE 300000-300003/);
    b.release(got[1]);
    expect(a.acquire()).toBe(got[1]);
    expect(readdirSync(dir).sort()).toEqual(got.map(String).sort());
  });

  it("takes over the lock of a worker that died (its pid is gone), not of a live one", () => {
    writeFileSync(join(dir, '300010'), '999999999');
    writeFileSync(join(dir, '300011'), String(process.pid));
    const pool = new UidPool(300010, 300011, dir);
    expect(pool.acquire()).toBe(300010);
    expect(() => pool.acquire()).toThrow(/no free job uid/);
  });
});
