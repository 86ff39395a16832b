import { DomainError } from '../common/errors/domain-error';
import type { ArchiveError } from './archive';

/** The workflow archive or its MLproject cannot be used (not an archive, corrupt, no/several MLproject, bad YAML). */
export class WorkflowInvalidError extends DomainError {
  constructor(message: string) {
    super('WORKFLOW_INVALID', message);
  }
}

/** The archive tried to escape its directory or exceeded the extraction limits: refused, never trimmed. */
export class WorkflowUnsafeError extends DomainError {
  constructor(message: string) {
    super('WORKFLOW_UNSAFE', message);
  }
}

export class EntryPointNotFoundError extends DomainError {
  constructor(entryPoint: string, declared: string[]) {
    const list = declared.length ? declared.join(', ') : '(none)';
    super('ENTRY_POINT_NOT_FOUND', `entry point '${entryPoint}' not found in MLproject; declared entry points: ${list}`, {
      entryPoint,
      declared,
    });
  }
}

export class ParameterInvalidError extends DomainError {
  constructor(message: string) {
    super('PARAMETER_INVALID', message);
  }
}

export class EntryPointKwargsInvalidError extends DomainError {
  constructor(message: string) {
    super('JOB_SUBMISSION_INVALID', message);
  }
}

export function workflowErrorFrom(e: ArchiveError): DomainError {
  return e.unsafe ? new WorkflowUnsafeError(e.message) : new WorkflowInvalidError(e.message);
}
