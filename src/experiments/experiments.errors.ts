import { DomainError } from '../common/errors/domain-error';

export class ExperimentNotFoundError extends DomainError {
  constructor(ref: number | string) {
    super('EXPERIMENT_NOT_FOUND', `experiment '${ref}' not found`);
  }
}

export class ExperimentArchivedError extends DomainError {
  constructor(name: string) {
    super('EXPERIMENT_ARCHIVED', `experiment '${name}' is archived and accepts no new jobs`);
  }
}
