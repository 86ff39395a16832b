import { ArgumentMetadata, Injectable, PipeTransform, ValidationPipe } from '@nestjs/common';
import { ValidationError } from 'class-validator';
import { ValidationFailedError } from './errors/domain-error';
import { assertCleanText } from './input-guards';
import { MAX_ROW_ID } from './sql';

/** Postgres `integer` (every serial id column): the range a path integer must stay in. */
export const INT4_MAX = MAX_ROW_ID;
export const INT4_MIN = -MAX_ROW_ID - 1;

/** class-validator errors → VALIDATION_FAILED with details.fields = {field: [messages]}. */
export function validationErrorFactory(errors: ValidationError[]): ValidationFailedError {
  const fields: Record<string, string[]> = {};
  const walk = (errs: ValidationError[], prefix: string) => {
    for (const e of errs) {
      const key = prefix ? `${prefix}.${e.property}` : e.property;
      if (e.constraints) {
        fields[key] = Object.entries(e.constraints).map(([type, msg]) =>
          type === 'whitelistValidation' ? `${key} is not an accepted field` : msg,
        );
      }
      if (e.children?.length) walk(e.children, key);
    }
  };
  walk(errors, '');
  const summary = Object.values(fields).flat().join('; ');
  return new ValidationFailedError(fields, summary || 'Validation failed');
}

/**
 * The global pipe: every body, query and path parameter is first checked for text Postgres cannot store (NUL, lone
 * surrogates, invalid UTF-8 in multipart fields: input-guards.ts), then bodies and queries are validated against their
 * DTOs. Path parameters are left as the strings they are, for the route's own pipe (IntParamPipe, ...): the stock
 * pipe would first turn `0x1` into 1 and `1e3` into 1000.
 */
export class AppValidationPipe extends ValidationPipe {
  constructor() {
    super({ whitelist: true, forbidNonWhitelisted: true, transform: true, exceptionFactory: validationErrorFactory });
  }

  override transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type !== 'custom') assertCleanText(value, metadata.data ?? '');
    if (metadata.type === 'param') return Promise.resolve(value);
    if (metadata.type === 'body' && metadata.metatype && this.toValidate(metadata)) value = withoutNulls(value);
    return super.transform(value, metadata);
  }
}

/**
 * A JSON `null` for a DTO field means "not given" (as in proto3 JSON, which MLflow's and Determined's clients speak):
 * `@IsOptional()` lets null through, and services test `=== undefined`, so `{"lifespan": null}` must not reach them.
 */
function withoutNulls(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const entries = Object.entries(value);
  return entries.some(([, v]) => v === null) ? Object.fromEntries(entries.filter(([, v]) => v !== null)) : value;
}

/**
 * An integer path parameter that names a row (`/users/{id}`): decimal digits within Postgres `integer`, else 400
 * VALIDATION_FAILED naming the parameter — `4294967296` never reaches the database.
 */
@Injectable()
export class IntParamPipe implements PipeTransform<string, number> {
  transform(value: string, metadata: ArgumentMetadata): number {
    const n = /^-?\d{1,10}$/.test(value) ? Number(value) : NaN;
    if (!Number.isInteger(n) || n < INT4_MIN || n > INT4_MAX) {
      const field = metadata.data ?? 'id';
      const message = `${field} must be an integer between ${INT4_MIN} and ${INT4_MAX}`;
      throw new ValidationFailedError({ [field]: [message] }, message);
    }
    return n;
  }
}
