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
