// Werkzeug's secure_filename as it behaves on POSIX (Dioptra runs on Linux): only '/' is a path separator there,
// so a backslash is simply dropped by the character filter.

const WHITESPACE_RUNS = /[\s\x1c-\x1f]+/; // Python's str.split() also splits on the ASCII separators \x1c-\x1f
const NOT_SAFE = /[^A-Za-z0-9_.-]/g;

const MAX_FILENAME_BYTES = 255;

export function secureFilename(name: string): string {
  const ascii = name.normalize('NFKD').replace(/[^\x00-\x7f]/g, '');
  const words = ascii.replace(/\//g, ' ').split(WHITESPACE_RUNS).filter((w) => w !== '');
  const safe = words.join('_').replace(NOT_SAFE, '').replace(/^[._]+|[._]+$/g, '');
  // Not in Werkzeug: capped at 255 bytes (a file name's limit; ASCII by now), as it becomes part of an indexed blob key.
  return safe === '' ? 'workflow' : safe.slice(0, MAX_FILENAME_BYTES);
}
