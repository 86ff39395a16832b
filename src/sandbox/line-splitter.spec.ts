import { LineSplitter } from './line-splitter';

describe('LineSplitter', () => {
  it('keeps a partial last line until its newline arrives, and drops the \\r of \\r\\n', () => {
    const s = new LineSplitter();
    expect(s.push(Buffer.from('one\ntw'))).toEqual(['one']);
    expect(s.push(Buffer.from('o\r\nthree'))).toEqual(['two']);
    expect(s.end()).toEqual(['three']);
    expect(s.end()).toEqual([]);
  });

  it('keeps empty lines', () => {
    expect(new LineSplitter().push(Buffer.from('a\n\nb\n'))).toEqual(['a', '', 'b']);
  });

  it('decodes a UTF-8 character split across chunks, and replaces NUL (Postgres text refuses it)', () => {
    const s = new LineSplitter();
    const bytes = Buffer.from('é\n');
    expect(s.push(bytes.subarray(0, 1))).toEqual([]);
    expect(s.push(bytes.subarray(1))).toEqual(['é']);
    expect(s.push(Buffer.from('a\0b\n'))).toEqual(['a\uFFFDb']);
  });

  it('cuts a line longer than the cap into pieces, without waiting for its newline', () => {
    const s = new LineSplitter(4);
    expect(s.push(Buffer.from('abcdefghij'))).toEqual(['abcd', 'efgh']);
    expect(s.push(Buffer.from('k\nabcdefgh\n'))).toEqual(['ijk', 'abcd', 'efgh']);
  });
});
