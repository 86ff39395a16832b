import { randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const scrypt = promisify(scryptCb) as (password: string, salt: Buffer, keylen: number) => Promise<Buffer>;
const KEY_LENGTH = 64;

/** `scrypt$<salt>$<hash>` with a per-user random salt (node:crypto defaults: N=16384, r=8, p=1). */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scrypt(password, salt, KEY_LENGTH);
  return `scrypt$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/** Constant-time comparison. A missing hash still costs one scrypt, so unknown users take as long as wrong passwords. */
export async function verifyPassword(password: string, stored: string | undefined): Promise<boolean> {
  const [scheme, saltB64, hashB64] = (stored ?? 'scrypt$AAAAAAAAAAAAAAAAAAAAAA==$').split('$');
  if (scheme !== 'scrypt') return false;
  const expected = Buffer.from(hashB64 ?? '', 'base64');
  const actual = await scrypt(password, Buffer.from(saltB64, 'base64'), KEY_LENGTH);
  return stored !== undefined && expected.length === actual.length && timingSafeEqual(expected, actual);
}
