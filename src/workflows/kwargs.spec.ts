import { formatEntryPointKwargs, parseEntryPointKwargs } from './kwargs';
import { EntryPointKwargsInvalidError } from './workflow.errors';

function refusal(text: string): EntryPointKwargsInvalidError {
  try {
    parseEntryPointKwargs(text);
  } catch (e) {
    expect(e).toBeInstanceOf(EntryPointKwargsInvalidError);
    expect((e as EntryPointKwargsInvalidError).code).toBe('JOB_SUBMISSION_INVALID');
    return e as EntryPointKwargsInvalidError;
  }
  throw new Error(`expected ${JSON.stringify(text)} to be refused`);
}

describe('parseEntryPointKwargs', () => {
  it('parses -P name=value pairs with shell quoting', () => {
    expect(parseEntryPointKwargs("-P a=1 -P 'b=two words'")).toEqual({ a: '1', b: 'two words' });
    expect(parseEntryPointKwargs('-P run_id=3f2a -P batch=32')).toEqual({ run_id: '3f2a', batch: '32' });
    expect(parseEntryPointKwargs('-P "msg=say \\"hi\\"" -P x=\'$HOME\' -P y=a\\ b')).toEqual({ msg: 'say "hi"', x: '$HOME', y: 'a b' });
  });

  it('accepts -Pname=value and --param-list name=value, splits at the first = and lets the last value win', () => {
    expect(parseEntryPointKwargs('-Pa=1 --param-list b=x=y -P a=2 -P c=')).toEqual({ a: '2', b: 'x=y', c: '' });
    expect(parseEntryPointKwargs('-P model.lr=0.1 -P _x-y=z')).toEqual({ 'model.lr': '0.1', '_x-y': 'z' });
  });

  it('returns {} for nothing', () => {
    expect(parseEntryPointKwargs(null)).toEqual({});
    expect(parseEntryPointKwargs(undefined)).toEqual({});
    expect(parseEntryPointKwargs('')).toEqual({});
    expect(parseEntryPointKwargs('  \n ')).toEqual({});
  });

  it.each([
    ["-P 'a=1", 'unclosed quote'],
    ['-P "a=1', 'unclosed quote'],
    ['-P a=1 \\', 'dangling backslash'],
    ['-P a=1 stray', "'stray'"],
    ['a=1', "'a=1'"],
    ['-P', "'-P' is missing"],
    ['-P a', "'a' is missing a value"],
    ['-P =1', "invalid parameter name '' in '=1'"],
    ['-P 1a=1', "invalid parameter name '1a'"],
    ['-P a$b=1', 'expansion'],
    ['-P a=1; rm -rf /', "operator ';'"],
    ['; rm -rf /', "operator ';'"],
    ['-P a=$(x)', 'expansion'],
    ['-P a=`id`', 'command substitution'],
    ['-P "a=`id`"', 'command substitution'],
    ['-P a=$HOME', "expansion '$HOME'"],
    ['-P "a=${HOME}"', "expansion '$HOME'"],
    ['-P a=*.txt', "glob pattern 'a=*.txt'"],
    ['-P a=file?', 'glob'],
    ['-P a=[ab]', 'glob'],
    ['-P a=1 # comment', 'comment'],
    ['-P a=1 && b', "operator '&&'"],
    ['-P a=1 | cat', "operator '|'"],
    ['-P a=1 > /tmp/x', "operator '>'"],
    ['-P a=(x)', "operator '('"],
  ])('refuses %j', (text, mentions) => {
    expect(refusal(text).message).toContain(mentions);
  });

  it('accepts quoted globs, operators and dollars as plain text', () => {
    expect(parseEntryPointKwargs("-P 'a=*.txt' -P 'b=x; y' -P 'c=$(x)' -P 'd=#1'")).toEqual({ a: '*.txt', b: 'x; y', c: '$(x)', d: '#1' });
  });
});

describe('formatEntryPointKwargs', () => {
  it('formats -P pairs, quoting only where needed', () => {
    expect(formatEntryPointKwargs({ a: '1', b: 'two words' })).toBe("-P a=1 -P 'b=two words'");
    expect(formatEntryPointKwargs({})).toBe('');
  });

  it('round-trips through parseEntryPointKwargs', () => {
    const values = ['', 'plain', 'two words', "it's", 'a"b', '$HOME', '$(x)', '`id`', '*.txt', '[a]', 'x;y', '#c', 'a\\b', 'new\nline', 'tab\there', 'ünï', "'", '=', 's3://b/k'];
    const params = Object.fromEntries(values.map((v, i) => [`p${i}`, v]));
    expect(parseEntryPointKwargs(formatEntryPointKwargs(params))).toEqual(params);
  });
});

describe('backslash escapes', () => {
  it('keeps an escaped $ literal', () => {
    expect(parseEntryPointKwargs('-P a=\\$HOME')).toEqual({ a: '$HOME' });
  });
});
