import { isConnectionError, retry } from './retry';

describe('retry', () => {
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });

  it('tells connection errors from refused statements', () => {
    expect(isConnectionError(refused)).toBe(true);
    expect(isConnectionError(Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }))).toBe(true);
    expect(isConnectionError(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isConnectionError(Object.assign(new Error('database "x" is not currently accepting connections'), { code: '55000' }))).toBe(true);
    expect(isConnectionError(Object.assign(new Error('invalid input syntax'), { code: '22P02' }))).toBe(false);
    expect(isConnectionError(Object.assign(new Error('violates foreign key constraint'), { code: '23503' }))).toBe(false);
    expect(isConnectionError(new TypeError('x is not a function'))).toBe(false);
    expect(isConnectionError(Object.assign(new Error('no space left on device'), { code: 'ENOSPC' }))).toBe(false);
  });

  it('retries a connection error until it succeeds, beyond the attempts for other errors', async () => {
    let calls = 0;
    const result = await retry(
      async () => {
        if (++calls < 6) throw refused;
        return 'ok';
      },
      { attempts: 2, firstDelayMs: 1, maxDelayMs: 2 },
    );
    expect({ result, calls }).toEqual({ result: 'ok', calls: 6 });
  });

  it('gives up on other errors after `attempts`, and on anything once giveUp() says so', async () => {
    let calls = 0;
    const bad = Object.assign(new Error('bad'), { code: '22P02' });
    await expect(retry(async () => { calls++; throw bad; }, { attempts: 3, firstDelayMs: 1 })).rejects.toBe(bad);
    expect(calls).toBe(3);
    calls = 0;
    await expect(retry(async () => { calls++; throw refused; }, { firstDelayMs: 1, giveUp: () => calls >= 2 })).rejects.toBe(refused);
    expect(calls).toBe(2);
  });
});
