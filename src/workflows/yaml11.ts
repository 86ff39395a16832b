// What MLflow makes of an MLproject scalar: PyYAML's safe_load (YAML 1.1 implicit types, resolved by PyYAML's own
// regular expressions, in its order) followed by Python's str(). So `false` → `False`, `~` → None (no default),
// `0.00001` → `1e-05`, `1.0e+17` → `1e+17`, `1e-5` (no dot: a string in YAML 1.1) → `1e-5`, `0x1F` → `31`,
// `yes` → `True`, `2024-01-31` → `2024-01-31`, quoted and block scalars verbatim.

const BOOL = /^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/;
const FLOAT =
  /^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;
const INT = /^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$/;
const NULL = /^(?:~|null|Null|NULL|)$/;
const TIMESTAMP =
  /^(?<year>[0-9]{4})-(?<month>[0-9]{1,2})-(?<day>[0-9]{1,2})(?:(?:[Tt]|[ \t]+)(?<hour>[0-9]{1,2}):(?<minute>[0-9]{2}):(?<second>[0-9]{2})(?:\.(?<fraction>[0-9]*))?(?:[ \t]*(?<tz>Z|(?<tzSign>[-+])(?<tzHour>[0-9]{1,2})(?::(?<tzMinute>[0-9]{2}))?))?)?$/;
const DATE_ONLY = /^[0-9]{4}-[0-9]{2}-[0-9]{2}$/;

/**
 * Python's str() of the value PyYAML gives a scalar, or null for YAML null (MLflow: no default). `plain` is false
 * for quoted and block scalars, which are strings whatever they hold. Throws for a scalar PyYAML cannot construct
 * (an impossible date).
 */
export function pythonStrOfScalar(text: string, opts: { plain: boolean; tag?: string }): string | null {
  const tag = opts.tag?.replace(/^!!/, 'tag:yaml.org,2002:');
  if (tag === 'tag:yaml.org,2002:str') return text;
  if (tag !== undefined) return explicitlyTagged(tag, text);
  if (!opts.plain) return text;
  // Resolvers in PyYAML's order for the first character (bool, float, int, null, timestamp).
  if (BOOL.test(text)) return /^(?:yes|true|on)$/i.test(text) ? 'True' : 'False';
  if (FLOAT.test(text)) return pythonFloatRepr(constructFloat(text));
  if (INT.test(text)) return constructInt(text).toString();
  if (NULL.test(text)) return null;
  if ((DATE_ONLY.test(text) || /[Tt \t]/.test(text)) && TIMESTAMP.test(text)) return timestamp(text);
  return text;
}

/** `!!float 1` and friends: PyYAML constructs the tagged type from the text, whatever it looks like. */
function explicitlyTagged(tag: string, text: string): string | null {
  switch (tag) {
    case 'tag:yaml.org,2002:float': {
      const x = constructFloat(text);
      if (Number.isNaN(x) && !/^[-+]?\.nan$/i.test(text.replace(/_/g, ''))) throw new Error(`'${text}' is not a float`);
      return pythonFloatRepr(x);
    }
    case 'tag:yaml.org,2002:int':
      try {
        return constructInt(text).toString();
      } catch {
        throw new Error(`'${text}' is not an int`);
      }
    case 'tag:yaml.org,2002:bool':
      if (!BOOL.test(text) && !/^(?:yes|no|true|false|on|off)$/i.test(text)) throw new Error(`'${text}' is not a bool`);
      return /^(?:yes|true|on)$/i.test(text) ? 'True' : 'False';
    case 'tag:yaml.org,2002:null':
      return null;
    default:
      throw new Error(`tag ${tag} is not supported`);
  }
}

/** PyYAML's construct_yaml_float. */
function constructFloat(text: string): number {
  let value = text.replace(/_/g, '').toLowerCase();
  let sign = 1;
  if (value[0] === '-') sign = -1;
  if (value[0] === '+' || value[0] === '-') value = value.slice(1);
  if (value === '.inf') return sign * Infinity;
  if (value === '.nan') return NaN;
  if (value.includes(':')) {
    let base = 1;
    let total = 0;
    for (const digit of value.split(':').map(Number).reverse()) {
      total += digit * base;
      base *= 60;
    }
    return sign * total;
  }
  return sign * Number(value);
}

/** PyYAML's construct_yaml_int, with Python's unbounded ints. */
function constructInt(text: string): bigint {
  let value = text.replace(/_/g, '');
  let sign = 1n;
  if (value[0] === '-') sign = -1n;
  if (value[0] === '+' || value[0] === '-') value = value.slice(1);
  if (value === '0') return 0n;
  if (value.startsWith('0b')) return sign * BigInt(value);
  if (value.startsWith('0x')) return sign * BigInt(value);
  if (value[0] === '0') return sign * BigInt(`0o${value.slice(1)}`);
  if (value.includes(':')) {
    let base = 1n;
    let total = 0n;
    for (const digit of value.split(':').map((d) => BigInt(d)).reverse()) {
      total += digit * base;
      base *= 60n;
    }
    return sign * total;
  }
  return sign * BigInt(value);
}

/** Python's repr() of a float (also its str()): the shortest round-trip digits, scientific below 1e-4 and from 1e16. */
export function pythonFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const sign = x < 0 ? '-' : '';
  // toExponential() without a digit count gives the shortest digits that read back as x (as Python's repr does).
  const [mantissa, expText] = Math.abs(x).toExponential().split('e');
  const digits = mantissa.replace('.', '');
  const exp = Number(expText);
  if (exp < -4 || exp >= 16) {
    const frac = digits.slice(1);
    return `${sign}${digits[0]}${frac ? `.${frac}` : ''}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  const intPart = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
  const fracPart = digits.slice(exp + 1);
  return `${sign}${intPart}.${fracPart || '0'}`;
}

/** PyYAML's construct_yaml_timestamp, then str() of the date or datetime. */
function timestamp(text: string): string {
  const g = TIMESTAMP.exec(text)!.groups!;
  const year = Number(g.year);
  const month = Number(g.month);
  const day = Number(g.day);
  const probe = new Date(Date.UTC(2000, month - 1, day));
  if (month < 1 || month > 12 || day < 1 || probe.getUTCDate() !== day || (month === 2 && day === 29 && !isLeap(year)) || year < 1) {
    throw new Error(`'${text}' is not a valid date`);
  }
  const date = `${String(year).padStart(4, '0')}-${pad2(month)}-${pad2(day)}`;
  if (g.hour === undefined) return date;
  const hour = Number(g.hour);
  const minute = Number(g.minute);
  const second = Number(g.second);
  if (hour > 23 || minute > 59 || second > 59) throw new Error(`'${text}' is not a valid time`);
  const micro = g.fraction ? g.fraction.slice(0, 6).padEnd(6, '0') : '';
  let out = `${date} ${pad2(hour)}:${pad2(minute)}:${pad2(second)}${micro && Number(micro) !== 0 ? `.${micro}` : ''}`;
  if (g.tzSign !== undefined) {
    const minutes = Number(g.tzHour) * 60 + Number(g.tzMinute ?? 0);
    if (minutes >= 24 * 60) throw new Error(`'${text}' has an invalid time zone`);
    out += `${minutes === 0 ? '+' : g.tzSign}${pad2(Math.floor(minutes / 60))}:${pad2(minutes % 60)}`;
  } else if (g.tz !== undefined) {
    out += '+00:00';
  }
  return out;
}

const pad2 = (n: number) => String(n).padStart(2, '0');
const isLeap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
