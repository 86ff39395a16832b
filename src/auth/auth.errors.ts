import { DomainError } from '../common/errors/domain-error';

export class UnauthenticatedError extends DomainError {
  constructor(message = 'token missing') {
    super('UNAUTHENTICATED', message);
  }
}

export class InvalidCredentialsError extends DomainError {
  constructor() {
    super('INVALID_CREDENTIALS', 'invalid credentials');
  }
}

export class UserNotActiveError extends DomainError {
  constructor() {
    super('USER_NOT_ACTIVE', 'user is not active');
  }
}

export class TokenNotFoundError extends DomainError {
  constructor(id: number) {
    super('TOKEN_NOT_FOUND', `access token ${id} not found`);
  }
}
