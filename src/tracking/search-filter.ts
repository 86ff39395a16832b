// The search_runs filter and order_by subset of reference §9, parsed into clauses the repository turns into SQL.
import { TrackingInvalidError } from './tracking.errors';

export type EntityType = 'metric' | 'parameter' | 'tag' | 'attribute';
export type Comparator = '=' | '!=' | '>' | '>=' | '<' | '<=' | 'LIKE' | 'ILIKE' | 'IN' | 'NOT IN' | 'IS NULL' | 'IS NOT NULL';

export interface Clause {
  type: EntityType;
  key: string;
  comparator: Comparator;
  /** number for metrics and numeric attributes, string otherwise, string[] for IN. */
  value?: number | string | string[];
}

export interface OrderBy {
  type: EntityType;
  key: string;
  ascending: boolean;
}

const ALIASES: Record<string, EntityType> = {
  metric: 'metric',
  metrics: 'metric',
  param: 'parameter',
  params: 'parameter',
  parameter: 'parameter',
  parameters: 'parameter',
  tag: 'tag',
  tags: 'tag',
  attribute: 'attribute',
  attributes: 'attribute',
  attr: 'attribute',
  run: 'attribute',
};
const IDENTIFIERS = "['metric', 'parameter', 'tag', 'attribute', 'dataset']";
export const STRING_ATTRIBUTES = ['run_id', 'run_name', 'status', 'user_id', 'artifact_uri'] as const;
export const NUMERIC_ATTRIBUTES = ['start_time', 'end_time'] as const;
const VALID_ATTRIBUTES = "['run_id', 'experiment_id', 'run_name', 'status', 'user_id', 'artifact_uri', 'start_time', 'end_time', 'created', 'Created', 'run name', 'Run name', 'Run Name']";
const ORDER_ATTRIBUTES = [...STRING_ATTRIBUTES, ...NUMERIC_ATTRIBUTES];

function canonicalAttribute(key: string): string {
  if (key === 'created' || key === 'Created') return 'start_time';
  if (key === 'run name' || key === 'Run name' || key === 'Run Name') return 'run_name';
  return key;
}

const unquote = (s: string) =>
  s.length >= 2 && ((s[0] === '`' && s.endsWith('`')) || (s[0] === '"' && s.endsWith('"')) || (s[0] === "'" && s.endsWith("'"))) ? s.slice(1, -1) : s;

function identifier(raw: string, forOrder: boolean): { type: EntityType; key: string } {
  const dot = raw.indexOf('.');
  let type: EntityType;
  let key: string;
  if (dot < 0 || raw[0] === '`' || raw[0] === '"') {
    type = 'attribute';
    key = unquote(raw);
  } else {
    const entity = unquote(raw.slice(0, dot));
    const t = ALIASES[entity];
    if (!t) {
      if (entity === 'dataset' || entity === 'datasets') throw new TrackingInvalidError(`Searching runs by dataset is not supported by this server`);
      throw new TrackingInvalidError(`Invalid entity type '${entity}'. Valid values are ${IDENTIFIERS}`);
    }
    type = t;
    key = unquote(raw.slice(dot + 1));
  }
  if (type === 'attribute') {
    key = canonicalAttribute(key);
    const valid = forOrder ? ORDER_ATTRIBUTES.includes(key as never) : [...ORDER_ATTRIBUTES].includes(key as never);
    if (!valid) throw new TrackingInvalidError(`Invalid attribute key '${key}' specified. Valid keys are '${VALID_ATTRIBUTES}'`);
  }
  return { type, key };
}

/** Reads one identifier: plain characters, with `backtick` or "double" quoted parts (keys with spaces). */
function readIdentifier(s: string, i: number): [string, number] {
  let j = i;
  while (j < s.length && !/[\s=!<>(]/.test(s[j])) {
    if (s[j] === '`' || s[j] === '"') {
      const close = s.indexOf(s[j], j + 1);
      if (close < 0) throw new TrackingInvalidError(`Invalid filter '${s}'. Could not be parsed.`);
      j = close + 1;
    } else j++;
  }
  return [s.slice(i, j), j];
}

const skipWs = (s: string, i: number) => {
  while (i < s.length && /\s/.test(s[i])) i++;
  return i;
};

function readString(s: string, i: number): [string, number] | null {
  const q = s[i];
  if (q !== "'" && q !== '"') return null;
  let out = '';
  let j = i + 1;
  while (j < s.length) {
    if (s[j] === q) {
      if (s[j + 1] === q) {
        out += q;
        j += 2;
        continue;
      }
      return [out, j + 1];
    }
    if (s[j] === '\\' && j + 1 < s.length) {
      out += s[j + 1];
      j += 2;
      continue;
    }
    out += s[j++];
  }
  throw new TrackingInvalidError(`Invalid filter '${s}'. Could not be parsed.`);
}

/** Parses `clause AND clause ...`; `OR` and parentheses are refused as MLflow refuses them. */
export function parseFilter(filter: string | undefined): Clause[] {
  if (!filter || !filter.trim()) return [];
  const s = filter;
  const clauses: Clause[] = [];
  let i = skipWs(s, 0);
  for (;;) {
    const [rawIdent, afterIdent] = readIdentifier(s, i);
    if (!rawIdent) throw new TrackingInvalidError(`Invalid filter '${filter}'. Could not be parsed.`);
    const { type, key } = identifier(rawIdent, false);
    i = skipWs(s, afterIdent);
    const rest = s.slice(i);
    const op = /^(!=|>=|<=|=|>|<)/.exec(rest)?.[1] ?? /^(NOT\s+IN|IN|ILIKE|LIKE|IS\s+NOT\s+NULL|IS\s+NULL)(?![\w])/i.exec(rest)?.[1];
    if (!op) throw new TrackingInvalidError(`Invalid comparison clause. Expected comparison found '${rest.split(/\s+/)[0] ?? ''}'`);
    i = skipWs(s, i + op.length);
    const comparator = op.toUpperCase().replace(/\s+/g, ' ') as Comparator;
    const clause: Clause = { type, key, comparator };
    if (comparator === 'IN' || comparator === 'NOT IN') {
      if (type !== 'attribute' || key !== 'run_id') throw new TrackingInvalidError("Only the 'run_id' attribute supports comparison with a list of quoted string values.");
      if (s[i] !== '(') throw new TrackingInvalidError(`Invalid filter '${filter}'. Could not be parsed.`);
      i = skipWs(s, i + 1);
      const values: string[] = [];
      while (s[i] !== ')') {
        const str = readString(s, i);
        if (!str) throw new TrackingInvalidError('While parsing a list in the query, expected string value, punctuation, or whitespace, but got different type in list');
        values.push(str[0]);
        i = skipWs(s, str[1]);
        if (s[i] === ',') i = skipWs(s, i + 1);
        else if (s[i] !== ')') throw new TrackingInvalidError(`Invalid filter '${filter}'. Could not be parsed.`);
      }
      i++;
      clause.value = values;
    } else if (comparator !== 'IS NULL' && comparator !== 'IS NOT NULL') {
      const str = readString(s, i);
      const num = /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?(?![\w.])/.exec(s.slice(i));
      const numeric = type === 'metric' || (type === 'attribute' && (NUMERIC_ATTRIBUTES as readonly string[]).includes(key));
      if (numeric) {
        if (!num) {
          const found = str ? s.slice(i, str[1]) : s.slice(i).split(/\s+/)[0];
          throw new TrackingInvalidError(type === 'metric' ? `Expected numeric value type for metric. Found ${found}` : `Expected numeric value type for numeric attribute: ${key}. Found ${found}`);
        }
        clause.value = Number(num[0]);
        i += num[0].length;
      } else {
        if (!str) {
          const found = s.slice(i).split(/\s+/)[0];
          throw new TrackingInvalidError(
            type === 'attribute' ? `Expected a quoted string value for attributes. Got value ${found}` : `Expected a quoted string value for ${type} (e.g. 'my-value'). Got value ${found}`,
          );
        }
        clause.value = str[0];
        i = str[1];
      }
    }
    checkComparator(clause);
    clauses.push(clause);
    i = skipWs(s, i);
    if (i >= s.length) return clauses;
    const joiner = /^(AND|OR)(?=\s)/i.exec(s.slice(i))?.[1];
    if (!joiner) throw new TrackingInvalidError(`Invalid filter '${filter}'. Could not be parsed.`);
    if (joiner.toUpperCase() === 'OR') throw new TrackingInvalidError(`Invalid clause(s) in filter string: 'OR'`);
    i = skipWs(s, i + joiner.length);
  }
}

function checkComparator(c: Clause): void {
  const numericOps = ['=', '!=', '>', '>=', '<', '<='];
  const stringOps = ['=', '!=', 'LIKE', 'ILIKE'];
  let allowed: string[];
  let label: string;
  if (c.type === 'metric') [allowed, label] = [numericOps, "{'=', '!=', '>', '>=', '<', '<='}"];
  else if (c.type === 'parameter' || c.type === 'tag') [allowed, label] = [[...stringOps, 'IS NULL', 'IS NOT NULL'], "{'=', '!=', 'LIKE', 'ILIKE'}"];
  else if ((NUMERIC_ATTRIBUTES as readonly string[]).includes(c.key)) [allowed, label] = [numericOps, "{'=', '!=', '>', '>=', '<', '<='}"];
  else [allowed, label] = [[...stringOps, 'IN', 'NOT IN'], "{'=', '!=', 'LIKE', 'ILIKE', 'IN', 'NOT IN'}"];
  if (!allowed.includes(c.comparator)) throw new TrackingInvalidError(`Invalid comparator '${c.comparator}' not one of '${label}'`);
}

/** `ident [ASC|DESC]` entries. */
export function parseOrderBy(list: string[]): OrderBy[] {
  return list.map((raw) => {
    const text = raw.trim();
    const [ident, after] = readIdentifier(text, 0);
    const rest = text.slice(after).trim();
    if (!ident || (rest && !/^(ASC|DESC)$/i.test(rest))) throw new TrackingInvalidError(`Invalid order_by clause '${raw}'. Could not be parsed.`);
    let id: { type: EntityType; key: string };
    try {
      id = identifier(ident, true);
    } catch (e) {
      if (e instanceof TrackingInvalidError && /^Invalid attribute key/.test(e.message)) {
        throw new TrackingInvalidError(`Invalid order by key '${ident}' specified. Valid keys are '${JSON.stringify(ORDER_ATTRIBUTES)}'`);
      }
      throw e;
    }
    return { ...id, ascending: !/^DESC$/i.test(rest) };
  });
}
