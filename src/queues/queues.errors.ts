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
