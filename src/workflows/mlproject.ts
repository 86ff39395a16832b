// The MLflow Projects subset Dioptra workflows use: an `MLproject` YAML file with entry points whose `command`
// templates get `{param}` placeholders replaced by shell-quoted values (MLflow's EntryPoint.compute_command).
import { posix } from 'node:path';
import { quote } from 'shell-quote';
import { isMap, isScalar, parseDocument, type Document } from 'yaml';
import type { ArchiveEntry } from './archive';
import { EntryPointNotFoundError, ParameterInvalidError, WorkflowInvalidError } from './workflow.errors';

export type ParameterType = 'string' | 'float' | 'int' | 'path' | 'uri';
export interface ParameterSpec {
  type: ParameterType;
  default?: string;
}
export interface EntryPointSpec {
  parameters: Record<string, ParameterSpec>;
  command: string;
}
export interface MLProject {
  name?: string;
  entryPoints: Record<string, EntryPointSpec>;
}
export interface ResolvedCommand {
  command: string;
  parameters: Record<string, string>;
}

const PARAMETER_TYPES: readonly string[] = ['string', 'float', 'int', 'path', 'uri'];
const FLOAT = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const INT = /^[+-]?\d+$/;
const URI_SCHEME = /^[A-Za-z][A-Za-z0-9+.-]+:/;

export function findMLproject(entries: ArchiveEntry[]): string {
  const found = entries.filter((e) => e.type === 'file' && posix.basename(e.path) === 'MLproject').map((e) => e.path);
  if (found.length === 0) throw new WorkflowInvalidError('workflow has no MLproject file');
  if (found.length > 1) throw new WorkflowInvalidError(`workflow has more than one MLproject file: ${found.join(', ')}`);
  return found[0];
}

export function parseMLproject(text: string): MLProject {
  const doc = parseDocument(text, { prettyErrors: false });
  if (doc.errors.length) throw new WorkflowInvalidError(`MLproject is not valid YAML: ${doc.errors[0].message}`);
  if (!isMap(doc.contents)) throw new WorkflowInvalidError('MLproject must be a YAML mapping');
  let top: Record<string, unknown>;
  try {
    top = doc.toJS() as Record<string, unknown>;
  } catch (e) {
    throw new WorkflowInvalidError(`MLproject is not valid YAML: ${(e as Error).message}`);
  }

  const name = top.name;
  if (name != null && typeof name === 'object') throw new WorkflowInvalidError("MLproject 'name' must be a string");
  const rawEntryPoints = top.entry_points;
  if (rawEntryPoints == null) throw new WorkflowInvalidError("MLproject has no 'entry_points'");
  if (!isPlainObject(rawEntryPoints)) throw new WorkflowInvalidError("MLproject 'entry_points' must be a mapping");

  const entryPoints: Record<string, EntryPointSpec> = {};
  for (const [epName, raw] of Object.entries(rawEntryPoints)) {
    if (!isPlainObject(raw)) throw new WorkflowInvalidError(`entry point '${epName}' must be a mapping`);
    if (typeof raw.command !== 'string' || raw.command.trim() === '') {
      throw new WorkflowInvalidError(`entry point '${epName}' has no 'command'`);
    }
    if (raw.parameters != null && !isPlainObject(raw.parameters)) {
      throw new WorkflowInvalidError(`'parameters' of entry point '${epName}' must be a mapping`);
    }
    const parameters: Record<string, ParameterSpec> = {};
    for (const [pName, spec] of Object.entries(raw.parameters ?? {})) {
      parameters[pName] = parameterSpec(doc, epName, pName, spec);
    }
    entryPoints[epName] = { parameters, command: raw.command };
  }
  return { ...(name != null ? { name: String(name) } : {}), entryPoints };
}

function parameterSpec(doc: Document, entryPoint: string, name: string, spec: unknown): ParameterSpec {
  const where = `parameter '${name}' of entry point '${entryPoint}'`;
  let type: unknown;
  let def: string | undefined;
  if (typeof spec === 'string') {
    type = spec;
  } else if (isPlainObject(spec)) {
    type = spec.type ?? 'string'; // MLflow's default when the mapping omits it
    const node = doc.getIn(['entry_points', entryPoint, 'parameters', name, 'default'], true);
    if (spec.default != null) {
      if (typeof spec.default === 'object') throw new WorkflowInvalidError(`${where} has a non-scalar default`);
      // Keep numbers as written (`5.0` stays "5.0", as Python's str() of the YAML value would give).
      def = typeof spec.default === 'string' ? spec.default : isScalar(node) && node.source ? node.source : String(spec.default);
    }
  } else {
    throw new WorkflowInvalidError(`${where} must be a type name or a mapping with 'type' and 'default'`);
  }
  if (typeof type !== 'string' || !PARAMETER_TYPES.includes(type)) {
    throw new WorkflowInvalidError(`${where} has unknown type '${String(type)}' (expected one of ${PARAMETER_TYPES.join(', ')})`);
  }
  return def === undefined ? { type: type as ParameterType } : { type: type as ParameterType, default: def };
}

export function resolveEntryPoint(
  project: MLProject,
  projectFiles: ReadonlySet<string>,
  entryPoint: string,
  params: Record<string, string>,
  workDir?: string,
): ResolvedCommand {
  const spec = Object.hasOwn(project.entryPoints, entryPoint) ? project.entryPoints[entryPoint] : scriptEntryPoint(projectFiles, entryPoint);
  if (!spec) throw new EntryPointNotFoundError(entryPoint, Object.keys(project.entryPoints));

  const effective: Record<string, string> = {};
  for (const [name, p] of Object.entries(spec.parameters)) {
    const given = Object.hasOwn(params, name) ? params[name] : p.default;
    if (given === undefined) throw new ParameterInvalidError(`missing required parameter '${name}' for entry point '${entryPoint}'`);
    effective[name] = checkedValue(name, p.type, given, workDir);
  }
  const extra = Object.entries(params).filter(([name]) => !Object.hasOwn(spec.parameters, name));

  // trim: a folded `>` command ends in a newline, which would end the shell command before the appended params.
  const command = [substitute(spec.command, effective).trim(), ...extra.map(([name, value]) => `--${name} ${quote([value])}`)].join(' ');
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

function checkedValue(name: string, type: ParameterType, value: string, workDir: string | undefined): string {
  switch (type) {
    case 'float':
      if (!FLOAT.test(value) || !Number.isFinite(Number(value))) throw mustBe(name, 'a float', value);
      return value;
    case 'int':
      if (!INT.test(value)) throw mustBe(name, 'an int', value);
      return value;
    case 'path':
    case 'uri':
      if (workDir === undefined || URI_SCHEME.test(value) || posix.isAbsolute(value)) return value;
      return posix.resolve(workDir, value);
    default:
      return value;
  }
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

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
