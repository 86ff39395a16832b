import { secureFilename } from './secure-filename';

describe('secureFilename (Werkzeug on POSIX)', () => {
  it.each([
    ['My cool movie.mov', 'My_cool_movie.mov'],
    ['../../../etc/passwd', 'etc_passwd'],
    ['i contain cool \u00fcml\u00e4uts.txt', 'i_contain_cool_umlauts.txt'],
    ['workflows.tar.gz', 'workflows.tar.gz'],
    ['  spaced \t out\n.tgz ', 'spaced_out_.tgz'],
    ['r\u00e9sum\u00e9 (v2).zip', 'resume_v2.zip'],
    ['\u4e2d\u6587.tgz', 'tgz'],
    ['___hidden.tar_', 'hidden.tar'],
    ['.bashrc', 'bashrc'],
    ['a\\b.tgz', 'ab.tgz'],
    ['\ufb01le.tar', 'file.tar'],
  ])('%j → %j', (input, expected) => {
    expect(secureFilename(input)).toBe(expected);
  });

  it.each(['', '..', '/', '\u4e2d\u6587', '._.'])('falls back to "workflow" for %j', (input) => {
    expect(secureFilename(input)).toBe('workflow');
  });
});
