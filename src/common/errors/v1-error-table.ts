import { ErrorCode } from './domain-error';

/** Every domain code → HTTP status for /api/v1 (and for routes outside both faces). Exhaustive by type. */
export const V1_STATUS: Record<ErrorCode, number> = {
  VALIDATION_FAILED: 400,
  ROUTE_NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  PAYLOAD_TOO_LARGE: 413,
  TOO_MANY_REQUESTS: 429,
  SERVICE_UNAVAILABLE: 503,
  INTERNAL: 500,
  UNAUTHENTICATED: 401,
  INVALID_CREDENTIALS: 401,
  USER_NOT_ACTIVE: 403,
  PERMISSION_DENIED: 403,
  USER_NOT_FOUND: 404,
  USER_ALREADY_EXISTS: 409,
  WRONG_PASSWORD: 400,
  TOKEN_NOT_FOUND: 404,
  EXPERIMENT_NOT_FOUND: 404,
  EXPERIMENT_ALREADY_EXISTS: 409,
  EXPERIMENT_NAME_RESERVED: 409,
  EXPERIMENT_NAME_INVALID: 400,
  EXPERIMENT_ARCHIVED: 400,
  EXPERIMENT_ALREADY_ARCHIVED: 400,
  EXPERIMENT_NOT_ARCHIVED: 400,
  EXPERIMENT_NOT_TERMINAL: 400,
  EXPERIMENT_ACTIVE: 400,
  QUEUE_NOT_FOUND: 404,
  QUEUE_ALREADY_EXISTS: 409,
  QUEUE_NAME_INVALID: 400,
  QUEUE_LOCKED: 403,
  QUEUE_ACTIVE: 400,
  JOB_NOT_FOUND: 404,
  JOB_SUBMISSION_INVALID: 400,
  WORKFLOW_INVALID: 400,
  WORKFLOW_UNSAFE: 400,
  ENTRY_POINT_NOT_FOUND: 400,
  PARAMETER_INVALID: 400,
  DEPENDENCY_NOT_FOUND: 400,
  JOB_NOT_CANCELABLE: 400,
  JOB_WORKFLOW_UPLOAD_FAILED: 503,
  TASK_PLUGIN_NOT_FOUND: 404,
  TASK_PLUGIN_FILE_NOT_FOUND: 404,
  TASK_PLUGIN_ALREADY_EXISTS: 409,
  TASK_PLUGIN_UPLOAD_INVALID: 400,
  TRACKING_INVALID: 400,
  TRACKING_NOT_FOUND: 404,
  TRACKING_ALREADY_EXISTS: 409,
};

/**
 * Codes the v1 face shows as VALIDATION_FAILED (their errors carry details.fields): on v1 every validation failure has
 * that one code (API.md §1), while the Dioptra face keeps their registration-form texts.
 */
export const V1_VALIDATION_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['EXPERIMENT_NAME_INVALID', 'QUEUE_NAME_INVALID']);

const REASON: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Payload Too Large',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export function reasonPhrase(status: number): string {
  return REASON[status] ?? 'Error';
}
