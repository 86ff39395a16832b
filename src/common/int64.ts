import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, ValidateBy } from 'class-validator';

/** Postgres `bigint`: the range of log line ids, metric steps and timestamps. */
export const INT64_MAX = 2n ** 63n - 1n;
export const INT64_MIN = -(2n ** 63n);

const DECIMAL = /^-?\d{1,19}$/;

/** The value as a bigint when it is a decimal integer within [min, INT64_MAX], else null. */
export function int64Of(value: unknown, min: bigint = INT64_MIN): bigint | null {
  if (typeof value !== 'string' || !DECIMAL.test(value)) return null;
  const n = BigInt(value);
  return n >= min && n <= INT64_MAX ? n : null;
}

/**
 * An optional query integer in Postgres bigint range, kept as its decimal string (a JS number loses digits past
 * 2^53): anything else — a fraction, `1e3`, a number past the range, a repeated key — is a 400 naming the field.
 */
export function OptionalInt64Query(options: { min?: bigint; description?: string; example?: string } = {}): PropertyDecorator {
  const min = options.min ?? INT64_MIN;
  return applyDecorators(
    ApiPropertyOptional({ type: String, pattern: min >= 0n ? '^\\d{1,19}$' : '^-?\\d{1,19}$', description: options.description, example: options.example }),
    IsOptional(),
    IsString(),
    ValidateBy({
      name: 'isInt64',
      validator: {
        validate: (value: unknown) => int64Of(value, min) !== null,
        defaultMessage: (args) => `${args?.property} must be an integer between ${min} and ${INT64_MAX}`,
      },
    }),
  );
}
