import { DomainError } from '../common/errors/domain-error';

export class QueueNotFoundError extends DomainError {
  constructor(ref: number | string) {
    super('QUEUE_NOT_FOUND', `queue '${ref}' not found`);
  }
}

export class QueueLockedError extends DomainError {
  constructor() {
    super('QUEUE_LOCKED', 'The requested queue is locked.');
  }
}

/** Live or deleted: names of deleted queues stay reserved. */
export class QueueAlreadyExistsError extends DomainError {
  constructor(name: string) {
    super('QUEUE_ALREADY_EXISTS', `queue '${name}' already exists`);
  }
}

/** A bad name, or (Dioptra face) a registration form that is not {name}. */
export class QueueNameInvalidError extends DomainError {
  constructor(reason = 'name must be 1-255 characters after slugifying, without "/"', field = 'name') {
    super('QUEUE_NAME_INVALID', reason, { fields: { [field]: [reason] } });
  }
}

export class QueueActiveError extends DomainError {
  constructor(id: number) {
    super('QUEUE_ACTIVE', `queue ${id} has queued, deferred or started jobs; wait for them or cancel them first`);
  }
}
