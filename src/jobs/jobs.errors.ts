import { DomainError } from '../common/errors/domain-error';

export class JobNotFoundError extends DomainError {
  constructor(id: string) {
    super('JOB_NOT_FOUND', `job '${id}' not found`);
  }
}

/** A submission field is missing or malformed (the Dioptra face's JobSubmissionError). */
export class JobSubmissionInvalidError extends DomainError {
  constructor(message: string) {
    super('JOB_SUBMISSION_INVALID', message);
  }
}

export class DependencyNotFoundError extends DomainError {
  constructor(ref: string) {
    super('DEPENDENCY_NOT_FOUND', `dependsOn: job '${ref}' does not exist`);
  }
}

export class JobNotCancelableError extends DomainError {
  constructor(id: string, status: string) {
    super('JOB_NOT_CANCELABLE', `job ${id} has already ended (status ${status}) and cannot be canceled`);
  }
}
