import { INT64_MAX, INT64_MIN, int64Of } from './int64';

describe('int64Of', () => {
  it('reads decimal integers within bigint range, down to the given minimum', () => {
    expect(int64Of('0')).toBe(0n);
    expect(int64Of('-42')).toBe(-42n);
    expect(int64Of('9223372036854775807')).toBe(INT64_MAX);
    expect(int64Of('-9223372036854775808')).toBe(INT64_MIN);
    expect(int64Of('-1', 0n)).toBeNull();
    expect(int64Of('0', 0n)).toBe(0n);
  });

  it.each(['9223372036854775808', '-9223372036854775809', '1.5', '1e3', '0x1f', ' 1', '1 ', '', '+1', '--1', '12345678901234567890'])('refuses %p', (v) => {
    expect(int64Of(v)).toBeNull();
  });

  it('refuses what is not a string (a repeated query key arrives as an array)', () => {
    expect(int64Of(['1', '2'])).toBeNull();
    expect(int64Of(1)).toBeNull();
    expect(int64Of(undefined)).toBeNull();
  });
});
