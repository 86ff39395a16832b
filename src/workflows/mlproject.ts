// The MLflow Projects subset Dioptra workflows use: an `MLproject` YAML file with entry points whose `command`
// templates get `{param}` placeholders replaced by shell-quoted values (MLflow's EntryPoint.compute_command).
//
// Read as MLflow reads it (mlflow/projects/_project_spec.py, PyYAML's safe_load, i.e. YAML 1.1): any parameter
// `type` is kept (unknown ones behave as strings), defaults are Python's str() of the YAML 1.1 value (see
// yaml11.ts), and each entry point is parsed only when it is asked for, so one odd entry point never blocks another.
import { existsSync } from 'node:fs';
import { posix } from 'node:path';
import { quote } from 'shell-quote';
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node, type YAMLMap } from 'yaml';
import type { ArchiveEntry } from './archive';
import { EntryPointNotFoundError, ParameterInvalidError, WorkflowInvalidError } from './workflow.errors';
import { pythonStrOfScalar } from './yaml11';

export interface ParameterSpec {
  /** As written; only `float`, `int`, `path` and `uri` mean something, anything else is a string. */
  type: string;
  /** Python's str() of the YAML default; absent (YAML null or no default) = required. */
  default?: string;
}
export interface EntryPointSpec {
  parameters: Record<string, ParameterSpec>;
  command: string;
}
export interface MLProject {
  name?: string;
  /** The MLproject's path inside the workflow, used in messages (`MLproject:3: …`). */
  file: string;
  /** Declared entry point names, in file order. */
  entryPointNames: string[];
  /** Parses one declared entry point (undefined if not declared); a malformed one throws WorkflowInvalidError. */
  entryPoint(name: string): EntryPointSpec | undefined;
}
export interface ResolvedCommand {
  command: string;
  parameters: Record<string, string>;
}

/**
 * The longest command a job may have, in UTF-8 bytes. It runs as one `bash -c <command>` argument, and Linux refuses
 * any single argument of MAX_ARG_STRLEN (131072 bytes, NUL included) or more with E2BIG; the rest of argv (the
 * sandbox's wrapper) and the environment (a few kB, set by admins) stay far below ARG_MAX (2 MiB with the usual 8 MiB
 * stack). So a command within this bound always executes, and a longer one is refused at submission, not at run time.
 */
export const MAX_COMMAND_BYTES = 128 * 1024 - 8 * 1024;

const FLOAT = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const INT = /^[+-]?\d+$/;
/** Python's urlsplit: a scheme is letters, digits, `+ - .` starting with a letter, before the first `:`. */
const URI_SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;

export function findMLproject(entries: ArchiveEntry[]): string {
  const found = entries.filter((e) => e.type === 'file' && posix.basename(e.path) === 'MLproject').map((e) => e.path);
  if (found.length === 0) throw new WorkflowInvalidError('workflow has no MLproject file');
  if (found.length > 1) throw new WorkflowInvalidError(`workflow has more than one MLproject file: ${found.join(', ')}`);
  return found[0];
}

/**
 * Checks the YAML and the top level (a mapping; `entry_points` a mapping if present, as MLflow's `.get(..., {})`
 * allows it to be absent). Entry points are parsed on demand by `entryPoint(name)`.
 */
export function parseMLproject(text: string, file = 'MLproject'): MLProject {
  const lines = new LineCounter();
  // failsafe: every scalar stays a string with its style, and yaml11.ts resolves plain ones as PyYAML does.
  // uniqueKeys off: PyYAML keeps the last of duplicate keys.
  const doc = parseDocument(text, { schema: 'failsafe', uniqueKeys: false, prettyErrors: false, lineCounter: lines });
  const at = (node: { range?: [number, number, number] | null } | null | undefined): string => {
    const offset = node?.range?.[0];
    return offset === undefined ? `${file}: ` : `${file}:${lines.linePos(offset).line}: `;
  };
  if (doc.errors.length) {
    const e = doc.errors[0];
    throw new WorkflowInvalidError(`${file}:${lines.linePos(e.pos[0]).line}: not valid YAML: ${e.message}`);
  }
  const top = deref(doc, doc.contents);
  if (!isMap(top)) throw new WorkflowInvalidError(`${file}: must be a YAML mapping`);

  const nameNode = deref(doc, top.get('name', true) as Node | undefined);
  const name = isScalar(nameNode) && nameNode.value !== '' ? String(nameNode.value) : undefined;
  const epNode = deref(doc, top.get('entry_points', true) as Node | undefined);
  const raw = new Map<string, Node | null>();
  if (epNode != null && !(isScalar(epNode) && isNull(epNode))) {
    if (!isMap(epNode)) throw new WorkflowInvalidError(`${at(epNode)}'entry_points' must be a mapping`);
    for (const pair of epNode.items) raw.set(keyOf(doc, pair.key), (pair.value as Node | null) ?? null);
  }
  const parsed = new Map<string, EntryPointSpec>();
  return {
    ...(name !== undefined ? { name } : {}),
    file,
    entryPointNames: [...raw.keys()],
    entryPoint(epName: string): EntryPointSpec | undefined {
      if (!raw.has(epName)) return undefined;
      let spec = parsed.get(epName);
      if (!spec) {
        spec = entryPointSpec(doc, at, epName, deref(doc, raw.get(epName)));
        parsed.set(epName, spec);
      }
      return spec;
    },
  };
}

type At = (node: { range?: [number, number, number] | null } | null | undefined) => string;

function entryPointSpec(doc: Document, at: At, epName: string, node: Node | null | undefined): EntryPointSpec {
  if (!isMap(node)) throw new WorkflowInvalidError(`${at(node)}entry point '${epName}' must be a mapping`);
  const command = deref(doc, node.get('command', true) as Node | undefined);
  if (!isScalar(command) || String(command.value).trim() === '') throw new WorkflowInvalidError(`${at(node)}entry point '${epName}' has no 'command'`);
  const params = deref(doc, node.get('parameters', true) as Node | undefined);
  const parameters: Record<string, ParameterSpec> = {};
  if (params != null && !(isScalar(params) && isNull(params))) {
    if (!isMap(params)) throw new WorkflowInvalidError(`${at(params)}'parameters' of entry point '${epName}' must be a mapping`);
    for (const pair of (params as YAMLMap).items) {
      const pName = keyOf(doc, pair.key);
      parameters[pName] = parameterSpec(doc, at, epName, pName, deref(doc, pair.value as Node | null), pair.key as Node);
    }
  }
  return { parameters, command: String(command.value) };
}

/** MLflow's Parameter: a type name, or a mapping with `type` (default `string`) and `default`. */
function parameterSpec(doc: Document, at: At, epName: string, name: string, spec: Node | null | undefined, keyNode: Node): ParameterSpec {
  const where = `parameter '${name}' of entry point '${epName}'`;
  if (isScalar(spec) && !isNull(spec)) return { type: String(spec.value) };
  if (!isMap(spec)) throw new WorkflowInvalidError(`${at(spec ?? keyNode)}${where} must be a type name or a mapping with 'type' and 'default'`);
  const typeNode = deref(doc, spec.get('type', true) as Node | undefined);
  // MLflow keeps whatever `type` holds; only the four names it (and we) act on matter.
  const type = isScalar(typeNode) ? String(typeNode.value) : 'string';
  const defNode = deref(doc, spec.get('default', true) as Node | undefined);
  if (defNode == null) return { type };
  if (!isScalar(defNode)) throw new WorkflowInvalidError(`${at(defNode)}${where} has a non-scalar default`);
  let def: string | null;
  try {
    def = pythonStrOfScalar(String(defNode.value), { plain: defNode.type === 'PLAIN', tag: defNode.tag });
  } catch (e) {
    throw new WorkflowInvalidError(`${at(defNode)}${where}: ${(e as Error).message}`);
  }
  return def === null ? { type } : { type, default: def };
}

/**
 * The command for one entry point. Without `workDir` (at submission) only given `float`/`int` values are checked;
 * with it (on the worker, the project directory) `path` and `uri` values are resolved as MLflow does.
 */
export function resolveEntryPoint(
  project: MLProject,
  projectFiles: ReadonlySet<string>,
  entryPoint: string,
  params: Record<string, string>,
  workDir?: string,
): ResolvedCommand {
  const spec = project.entryPoint(entryPoint) ?? scriptEntryPoint(projectFiles, entryPoint);
  if (!spec) throw new EntryPointNotFoundError(entryPoint, project.entryPointNames);

  const effective: Record<string, string> = {};
  for (const [name, p] of Object.entries(spec.parameters)) {
    const given = Object.hasOwn(params, name);
    const value = given ? params[name] : p.default;
    if (value === undefined) throw new ParameterInvalidError(`missing required parameter '${name}' for entry point '${entryPoint}'`);
    effective[name] = computeValue(name, p.type, value, given, workDir);
  }
  const extra = Object.entries(params).filter(([name]) => !Object.hasOwn(spec.parameters, name));

  // trim: a folded `>` command ends in a newline, which would end the shell command before the appended params.
  const command = [substitute(spec.command, effective).trim(), ...extra.map(([name, value]) => `--${name} ${quote([value])}`)].join(' ');
  const bytes = Buffer.byteLength(command);
  if (bytes > MAX_COMMAND_BYTES) {
    throw new ParameterInvalidError(
      `the command of entry point '${entryPoint}' with these parameters is ${bytes} bytes, more than the ${MAX_COMMAND_BYTES} a process argument can hold; pass large values in a file of the workflow`,
    );
  }
  return { command, parameters: { ...effective, ...Object.fromEntries(extra) } };
}

/** MLflow runs a `.py` or `.sh` file of the project that is not a declared entry point directly. */
function scriptEntryPoint(projectFiles: ReadonlySet<string>, entryPoint: string): EntryPointSpec | null {
  const file = posix.normalize(entryPoint);
  if (file.startsWith('../') || file.startsWith('/') || !projectFiles.has(file)) return null;
  if (file.endsWith('.py')) return { parameters: {}, command: `python ${quote([file])}` };
  if (file.endsWith('.sh')) return { parameters: {}, command: `bash ${quote([file])}` };
  return null;
}

function computeValue(name: string, type: string, value: string, given: boolean, workDir: string | undefined): string {
  switch (type) {
    case 'float':
      // A default is never checked (a real example declares `{type: float, default: false}`).
      if (given && (!FLOAT.test(value) || !Number.isFinite(Number(value)))) throw mustBe(name, 'a float', value);
      return value;
    case 'int':
      if (given && !INT.test(value)) throw mustBe(name, 'an int', value);
      return value;
    case 'path':
      return workDir === undefined ? value : localPath(name, value, workDir);
    case 'uri':
      // MLflow's _compute_uri_value, on the worker like MLflow (default or given).
      if (workDir !== undefined && !URI_SCHEME.test(value)) throw new ParameterInvalidError(`Expected URI for parameter ${name} but got ${value}`);
      return value;
    default:
      return value;
  }
}

/**
 * MLflow's _compute_path_value: a local path (no scheme, or `file:` without a host) must exist and becomes
 * absolute — here against the project directory, where the job runs. MLflow would download a remote URI into
 * a scratch directory; Alidade does not fetch anything for a job, so that is refused with the reason.
 */
function localPath(name: string, value: string, workDir: string): string {
  const scheme = URI_SCHEME.exec(value)?.[1].toLowerCase();
  let path = value;
  if (scheme !== undefined) {
    // urlsplit: `//netloc` after the scheme, then the path up to `?` or `#`.
    let rest = value.slice(scheme.length + 1);
    let netloc = '';
    const authority = /^\/\/([^/?#]*)/.exec(rest);
    if (authority) {
      netloc = authority[1];
      rest = rest.slice(authority[0].length);
    }
    if (scheme !== 'file' || netloc !== '') {
      throw new ParameterInvalidError(`parameter ${name} is of type path, but ${value} is not a local path (Alidade does not download remote paths for a job)`);
    }
    path = rest.replace(/[?#].*$/s, '');
  }
  path = pyUnquote(path);
  const abs = posix.resolve(workDir, path);
  if (!existsSync(abs)) throw new ParameterInvalidError(`Got value ${value} for parameter ${name}, but no such file or directory was found.`);
  return abs;
}

/** Python's urllib.parse.unquote (UTF-8, bad bytes replaced): what url2pathname does on POSIX. */
function pyUnquote(s: string): string {
  if (!s.includes('%')) return s;
  return s.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => Buffer.from(run.replace(/%/g, ''), 'hex').toString('utf8'));
}

function mustBe(name: string, what: string, value: string): ParameterInvalidError {
  return new ParameterInvalidError(`parameter '${name}' must be ${what}, got '${value}'`);
}

/**
 * Python str.format over the declared parameters: `{{`/`}}` are literal braces, `{name}` of a declared
 * parameter becomes its quoted value. Unlike Python, any other `{...}` (e.g. a shell `${VAR}`) is left as written.
 */
function substitute(template: string, values: Record<string, string>): string {
  return template.replace(/\{\{|\}\}|\{([^{}]*)\}/g, (match, name: string | undefined) => {
    if (match === '{{') return '{';
    if (match === '}}') return '}';
    return name !== undefined && Object.hasOwn(values, name) ? quote([values[name]]) : match;
  });
}

/** Follows an alias to the node it names. */
function deref(doc: Document, node: unknown): Node | null | undefined {
  let n = node as Node | null | undefined;
  for (let i = 0; i < 100 && isAlias(n); i++) n = n.resolve(doc) as Node | undefined;
  return n;
}

function keyOf(doc: Document, key: unknown): string {
  const k = deref(doc, key);
  if (isScalar(k)) return String(k.value);
  if (isMap(k) || isSeq(k)) return JSON.stringify(k.toJSON());
  return String(k ?? '');
}

/** A plain scalar PyYAML reads as None (`~`, `null`, empty). */
function isNull(node: Node): boolean {
  return isScalar(node) && node.type === 'PLAIN' && node.tag === undefined && /^(?:~|null|Null|NULL|)$/.test(String(node.value));
}
