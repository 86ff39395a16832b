// Dioptra's `entry_point_kwargs`: shell words of the form `-P name=value`. Dioptra split them with Python's
// shlex and later pasted them unquoted into a shell; we parse them once, strictly, and keep only the name/value
// map, so nothing in them is ever expanded or executed.
import { parse } from 'shell-quote';
import { EntryPointKwargsInvalidError } from './workflow.errors';

const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

export function parseEntryPointKwargs(text: string | null | undefined): Record<string, string> {
  if (text == null || text.trim() === '') return {};
  checkQuotingAndExpansions(text);
  const expansions: string[] = [];
  const tokens = parse(text, (name: string) => {
    expansions.push(name);
    return '';
  });
  if (expansions.length) throw invalid(`shell expansion '$${expansions[0]}' is not allowed`);
  const words = tokens.map((t) => {
    if (typeof t === 'string') return t;
    if ('comment' in t) throw invalid(`comment '#${t.comment}' is not allowed`);
    if ('pattern' in t) throw invalid(`glob pattern '${t.pattern}' is not allowed (quote it)`);
    throw invalid(`shell operator '${t.op}' is not allowed`);
  });

  const params: Record<string, string> = {};
  for (let i = 0; i < words.length; i++) {
    const word = words[i];
    let pair: string;
    if (word === '-P' || word === '--param-list') {
      if (i + 1 >= words.length) throw invalid(`'${word}' is missing its name=value`);
      pair = words[++i];
    } else if (word.startsWith('-P') && word.length > 2) {
      pair = word.slice(2);
    } else {
      throw invalid(`unexpected word '${word}': expected -P name=value`);
    }
    const eq = pair.indexOf('=');
    if (eq < 0) throw invalid(`'${pair}' is missing a value: expected -P name=value`);
    const name = pair.slice(0, eq);
    if (!PARAM_NAME.test(name)) throw invalid(`invalid parameter name '${name}' in '${pair}'`);
    params[name] = pair.slice(eq + 1);
  }
  return params;
}

/** Inverse of parseEntryPointKwargs, quoting like Python's shlex.quote. */
export function formatEntryPointKwargs(params: Record<string, string>): string {
  return Object.entries(params)
    .map(([name, value]) => `-P ${shellQuote(`${name}=${value}`)}`)
    .join(' ');
}

function shellQuote(word: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'"'"'`)}'`;
}

/**
 * shell-quote silently closes an unclosed quote, drops a trailing backslash and passes backticks and [ globs
 * through, so those are checked here with POSIX quoting rules: nothing is special inside '...', and inside "..." only \ $ `.
 */
function checkQuotingAndExpansions(text: string): void {
  let quote: "'" | '"' | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote === "'") {
      if (c === "'") quote = null;
    } else if (c === '\\') {
      if (i + 1 >= text.length) throw invalid('dangling backslash at the end');
      i++;
    } else if (c === '`') {
      throw invalid('command substitution with ` is not allowed');
    } else if (quote === '"') {
      if (c === '"') quote = null;
    } else if (c === "'" || c === '"') {
      quote = c;
    } else if (c === '[') {
      throw invalid(`glob pattern with '[' is not allowed (quote it)`); // shell-quote only knows * and ?
    }
  }
  if (quote) throw invalid(`unclosed quote ${quote} in '${text}'`);
}

function invalid(reason: string): EntryPointKwargsInvalidError {
  return new EntryPointKwargsInvalidError(`invalid entryPointKwargs: ${reason}`);
}
