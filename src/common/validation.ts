import { ArgumentMetadata, ValidationPipe } from '@nestjs/common';
import { ValidationError } from 'class-validator';
import { ValidationFailedError } from './errors/domain-error';

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
 * The global pipe: validates bodies and queries against their DTOs. Path parameters are left as the strings they are,
 * for the route's own pipe (ParseIntPipe, ...): the stock pipe would first turn `0x1` into 1 and `1e3` into 1000.
 */
export class AppValidationPipe extends ValidationPipe {
  constructor() {
    super({ whitelist: true, forbidNonWhitelisted: true, transform: true, exceptionFactory: validationErrorFactory });
  }

  override transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    return metadata.type === 'param' ? Promise.resolve(value) : super.transform(value, metadata);
  }
}
