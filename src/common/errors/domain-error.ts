// Domain errors: thrown by services (which also run in the worker, where there is no HTTP).
// Exhaustive tables turn a code into an HTTP reply: v1-error-table.ts here, and each face brings its own (ErrorFace).

export const ERROR_CODES = [
  // request-level
  'VALIDATION_FAILED',
  'ROUTE_NOT_FOUND',
  'METHOD_NOT_ALLOWED',
  'PAYLOAD_TOO_LARGE',
  'TOO_MANY_REQUESTS',
  'SERVICE_UNAVAILABLE',
  'INTERNAL',
  // auth and users
  'UNAUTHENTICATED',
  'INVALID_CREDENTIALS',
  'USER_NOT_ACTIVE',
  'PERMISSION_DENIED',
  'USER_NOT_FOUND',
  'USER_ALREADY_EXISTS',
  'WRONG_PASSWORD',
  'TOKEN_NOT_FOUND',
  // experiments
  'EXPERIMENT_NOT_FOUND',
  'EXPERIMENT_ALREADY_EXISTS',
  'EXPERIMENT_NAME_RESERVED',
  'EXPERIMENT_NAME_INVALID',
  'EXPERIMENT_ARCHIVED',
  'EXPERIMENT_ALREADY_ARCHIVED',
  'EXPERIMENT_NOT_ARCHIVED',
  'EXPERIMENT_NOT_TERMINAL',
  'EXPERIMENT_ACTIVE',
  // queues
  'QUEUE_NOT_FOUND',
  'QUEUE_ALREADY_EXISTS',
  'QUEUE_NAME_INVALID',
  'QUEUE_LOCKED',
  'QUEUE_ACTIVE',
  // jobs
  'JOB_NOT_FOUND',
  'JOB_SUBMISSION_INVALID',
  'WORKFLOW_INVALID',
  'WORKFLOW_UNSAFE',
  'ENTRY_POINT_NOT_FOUND',
  'PARAMETER_INVALID',
  'DEPENDENCY_NOT_FOUND',
  'JOB_NOT_CANCELABLE',
  'JOB_WORKFLOW_UPLOAD_FAILED',
  // task plugins
  'TASK_PLUGIN_NOT_FOUND',
  'TASK_PLUGIN_FILE_NOT_FOUND',
  'TASK_PLUGIN_ALREADY_EXISTS',
  'TASK_PLUGIN_UPLOAD_INVALID',
  // tracking (the MLflow face): messages are MLflow's own texts
  'TRACKING_INVALID',
  'TRACKING_NOT_FOUND',
  'TRACKING_ALREADY_EXISTS',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Field-level validation failure: details.fields = {field: [messages]}. */
export class ValidationFailedError extends DomainError {
  constructor(fields: Record<string, string[]>, message = 'Validation failed') {
    super('VALIDATION_FAILED', message, { fields });
  }
}

export class RouteNotFoundError extends DomainError {
  constructor(method: string, path: string) {
    super('ROUTE_NOT_FOUND', `Cannot ${method} ${path}: no such route`);
  }
}

export class MethodNotAllowedError extends DomainError {
  constructor(method: string, path: string, allowed: string[]) {
    super('METHOD_NOT_ALLOWED', `Method ${method} is not allowed on ${path}`, { allowed });
  }
}

export class PayloadTooLargeError extends DomainError {
  constructor(limit: number, what = 'upload') {
    super('PAYLOAD_TOO_LARGE', `The ${what} is larger than the limit of ${limit} bytes`, { limit });
  }
}

export class TooManyRequestsError extends DomainError {
  constructor() {
    super('TOO_MANY_REQUESTS', 'too many login attempts; try again later');
  }
}

export class ServiceUnavailableError extends DomainError {
  constructor(message = 'The database or queue is unavailable; try again shortly') {
    super('SERVICE_UNAVAILABLE', message);
  }
}

export class PermissionDeniedError extends DomainError {
  constructor(message = 'You do not have permission to do this') {
    super('PERMISSION_DENIED', message);
  }
}
