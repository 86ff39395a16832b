import { parseJsonInput } from '../common/input-guards';
import { JobSubmissionInvalidError } from './jobs.errors';

/** The names `-P name=value` allows (the same rule as entryPointKwargs, so the formatted string parses back). */
const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/**
 * v1's `parameters` form field: a JSON object of name → string/number/boolean. Values become strings, as on an
 * MLflow command line; anything else is refused with the offending key named.
 */
export function parseParametersField(text: string): Record<string, string> {
  return parametersFromJson(parseJsonInput(text, 'parameters', () => new JobSubmissionInvalidError(NOT_AN_OBJECT)));
}

const NOT_AN_OBJECT = 'parameters must be a JSON object of name → value, e.g. {"epochs": "3"}';

/** Parsed JSON (a form field's, or a JSON body's `parameters`) → the `-P` map, by the rule above. */
export function parametersFromJson(parsed: unknown): Record<string, string> {
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new JobSubmissionInvalidError(NOT_AN_OBJECT);
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(parsed)) {
    if (!PARAM_NAME.test(name)) throw new JobSubmissionInvalidError(`parameters: invalid parameter name '${name}'`);
    if (typeof value === 'string') out[name] = value;
    else if ((typeof value === 'number' && Number.isFinite(value)) || typeof value === 'boolean') out[name] = String(value);
    else throw new JobSubmissionInvalidError(`parameters: the value of '${name}' must be a string, number or boolean`);
  }
  return out;
}
