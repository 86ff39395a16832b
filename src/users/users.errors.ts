import { DomainError } from '../common/errors/domain-error';

export class UserNotFoundError extends DomainError {
  constructor(id: number | string) {
    super('USER_NOT_FOUND', `user ${id} not found`);
  }
}

export class UserAlreadyExistsError extends DomainError {
  constructor(username: string) {
    super('USER_ALREADY_EXISTS', `user "${username}" already exists`);
  }
}

export class WrongPasswordError extends DomainError {
  constructor() {
    super('WRONG_PASSWORD', 'oldPassword is incorrect');
  }
}
