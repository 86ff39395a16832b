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

export class ExperimentAlreadyExistsError extends DomainError {
  constructor(name: string) {
    super('EXPERIMENT_ALREADY_EXISTS', `experiment '${name}' already exists`);
  }
}

/** The name belongs to a deleted experiment: names of deleted rows stay reserved (as MLflow keeps them). */
export class ExperimentNameReservedError extends DomainError {
  constructor(name: string) {
    super('EXPERIMENT_NAME_RESERVED', `the name '${name}' belonged to a deleted experiment and stays reserved`);
  }
}

/** A bad name, or (Dioptra face) a registration form that is not {name}. */
export class ExperimentNameInvalidError extends DomainError {
  constructor(reason = 'name must be 1-255 characters after slugifying, without "/"', field = 'name') {
    super('EXPERIMENT_NAME_INVALID', reason, { fields: { [field]: [reason] } });
  }
}

export class ExperimentAlreadyArchivedError extends DomainError {
  constructor() {
    super('EXPERIMENT_ALREADY_ARCHIVED', 'Experiment is already archived.');
  }
}

export class ExperimentNotArchivedError extends DomainError {
  constructor() {
    super('EXPERIMENT_NOT_ARCHIVED', 'Experiment is not archived.');
  }
}

export class ExperimentNotTerminalError extends DomainError {
  constructor() {
    super('EXPERIMENT_NOT_TERMINAL', 'Experiment is not in terminal state.');
  }
}

export class ExperimentActiveError extends DomainError {
  constructor(id: number) {
    super('EXPERIMENT_ACTIVE', `experiment ${id} has queued, deferred or started jobs; wait for them or cancel them first`);
  }
}
