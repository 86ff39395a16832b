import { Transform } from 'class-transformer';

/**
 * Query booleans accept exactly 'true'/'false' (API.md §1.2). Anything else is left as-is so IsBoolean rejects it;
 * no implicit conversion, so '?archived=false' stays false.
 */
export function QueryBoolean(): PropertyDecorator {
  return Transform(({ value }) => (value === 'true' ? true : value === 'false' ? false : value));
}

/** Repeatable query keys arrive as a string or an array; always give an array. */
export function QueryArray(): PropertyDecorator {
  return Transform(({ value }) => (value === undefined ? undefined : Array.isArray(value) ? value : [value]));
}
