import { ErrorCode } from '../common/errors/domain-error';
import { ErrorFace } from '../common/errors/error-face';

/** A Dioptra reply for a domain error: status, exact message text, and whether to add the domain message as `detail`. */
export interface DioptraErrorReply {
  status: number;
  message: string;
  detail?: boolean;
}

const UNAUTHORIZED =
  "The server could not verify that you are authorized to access the URL requested. You either supplied the wrong credentials (e.g. a bad password), or your browser doesn't understand how to supply the credentials required.";
const JOB_SUBMISSION: DioptraErrorReply = {
  status: 400,
  message: 'Bad Request - The job submission form contains invalid parameters. Please verify and resubmit.',
  detail: true,
};
const EXPERIMENT_REGISTRATION: DioptraErrorReply = {
  status: 400,
  message: 'Bad Request - The experiment registration form contains invalid parameters. Please verify and resubmit.',
  detail: true,
};
const QUEUE_REGISTRATION: DioptraErrorReply = {
  status: 400,
  message: 'Bad Request - The queue registration form contains invalid parameters. Please verify and resubmit.',
  detail: true,
};
const TASK_PLUGIN_UPLOAD: DioptraErrorReply = {
  status: 400,
  message: 'Bad Request - The task plugin upload form contains invalid parameters. Please verify and resubmit.',
  detail: true,
};

/** Every domain code → the Dioptra face's reply (reference/dioptra-v0-api.md §3). Exhaustive by type. */
export const DIOPTRA_ERRORS: Record<ErrorCode, DioptraErrorReply> = {
  VALIDATION_FAILED: { status: 400, message: 'Bad Request - The request contains invalid parameters. Please verify and resubmit.', detail: true },
  ROUTE_NOT_FOUND: {
    status: 404,
    message: 'Not Found - The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.',
  },
  METHOD_NOT_ALLOWED: { status: 405, message: 'The method is not allowed for the requested URL.' },
  PAYLOAD_TOO_LARGE: { status: 413, message: 'Request Entity Too Large - The data value transmitted exceeds the capacity limit.', detail: true },
  TOO_MANY_REQUESTS: { status: 429, message: 'Too Many Requests - You have exceeded a rate limit.' },
  SERVICE_UNAVAILABLE: { status: 503, message: 'Service Unavailable - The server is temporarily unable to service your request. Please try again later.' },
  INTERNAL: { status: 500, message: 'Internal Server Error' },
  UNAUTHENTICATED: { status: 401, message: UNAUTHORIZED, detail: true },
  INVALID_CREDENTIALS: { status: 401, message: UNAUTHORIZED, detail: true },
  USER_NOT_ACTIVE: { status: 403, message: 'Forbidden - user is not active' },
  PERMISSION_DENIED: { status: 403, message: 'Forbidden - You do not have the permission to perform this action.', detail: true },
  USER_NOT_FOUND: { status: 404, message: 'Not Found - The requested user does not exist' },
  USER_ALREADY_EXISTS: {
    status: 400,
    message: 'Bad Request - The username on the registration form is not available. Please select another and resubmit.',
  },
  WRONG_PASSWORD: { status: 403, message: 'Password Verification Failed' },
  TOKEN_NOT_FOUND: { status: 404, message: 'Not Found - The requested token does not exist' },
  EXPERIMENT_NOT_FOUND: { status: 404, message: 'Not Found - The requested experiment does not exist' },
  EXPERIMENT_ALREADY_EXISTS: {
    status: 400,
    message: 'Bad Request - The experiment name on the registration form already exists. Please select another and resubmit.',
  },
  EXPERIMENT_NAME_RESERVED: {
    status: 400,
    message:
      'Bad Request - The experiment name on the registration form already exists on the MLFlow Tracking backend. Please select another and resubmit.',
  },
  EXPERIMENT_NAME_INVALID: EXPERIMENT_REGISTRATION,
  EXPERIMENT_ARCHIVED: JOB_SUBMISSION,
  EXPERIMENT_ALREADY_ARCHIVED: { status: 400, message: 'Bad Request - Experiment is already archived.' },
  EXPERIMENT_NOT_ARCHIVED: { status: 400, message: 'Bad Request - Experiment is not archived.' },
  EXPERIMENT_NOT_TERMINAL: { status: 400, message: 'Bad Request - Experiment is not in terminal state.' },
  EXPERIMENT_ACTIVE: { status: 400, message: 'Bad Request - The experiment has active jobs and cannot be deleted.', detail: true },
  QUEUE_NOT_FOUND: { status: 404, message: 'Not Found - The requested queue does not exist' },
  QUEUE_ALREADY_EXISTS: {
    status: 400,
    message: 'Bad Request - The queue name on the registration form already exists. Please select another and resubmit.',
  },
  QUEUE_NAME_INVALID: QUEUE_REGISTRATION,
  QUEUE_LOCKED: { status: 403, message: 'Forbidden - The requested queue is locked.' },
  QUEUE_ACTIVE: { status: 400, message: 'Bad Request - The queue has active jobs and cannot be deleted.', detail: true },
  JOB_NOT_FOUND: { status: 404, message: 'Not Found - The requested job does not exist' },
  JOB_SUBMISSION_INVALID: JOB_SUBMISSION,
  WORKFLOW_INVALID: JOB_SUBMISSION,
  WORKFLOW_UNSAFE: JOB_SUBMISSION,
  ENTRY_POINT_NOT_FOUND: JOB_SUBMISSION,
  PARAMETER_INVALID: JOB_SUBMISSION,
  DEPENDENCY_NOT_FOUND: JOB_SUBMISSION,
  JOB_NOT_CANCELABLE: { status: 400, message: 'Bad Request - The job has already ended.', detail: true },
  JOB_WORKFLOW_UPLOAD_FAILED: {
    status: 503,
    message: 'Service Unavailable - Unable to store the workflow file after upload. Please try again later.',
  },
  TASK_PLUGIN_NOT_FOUND: { status: 404, message: 'Not Found - The requested task plugin package does not exist' },
  TASK_PLUGIN_FILE_NOT_FOUND: { status: 404, message: 'Not Found - The requested task plugin package does not exist' },
  TASK_PLUGIN_ALREADY_EXISTS: {
    status: 400,
    message:
      'Bad Request - The names of one or more of the uploaded task plugin packages conflicts with an existing package in the collection. To update an existing task plugin package, delete it first and then resubmit.',
  },
  TASK_PLUGIN_UPLOAD_INVALID: TASK_PLUGIN_UPLOAD,
  TRACKING_INVALID: { status: 400, message: 'Bad Request - The request contains invalid parameters. Please verify and resubmit.', detail: true },
  TRACKING_NOT_FOUND: {
    status: 404,
    message: 'Not Found - The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.',
  },
  TRACKING_ALREADY_EXISTS: { status: 400, message: 'Bad Request - The request contains invalid parameters. Please verify and resubmit.', detail: true },
};

/**
 * A request-level validation failure (bad text, nesting, a malformed form: common/input-guards.ts) on a Dioptra form
 * is that form's error, as Dioptra answers any invalid form field with it.
 */
const FORMS: Array<[prefix: string, reply: DioptraErrorReply]> = [
  ['/api/experiment', EXPERIMENT_REGISTRATION],
  ['/api/queue', QUEUE_REGISTRATION],
  ['/api/job', JOB_SUBMISSION],
  ['/api/taskPlugin', TASK_PLUGIN_UPLOAD],
];

function formError(request: { method: string; path: string }): DioptraErrorReply | undefined {
  if (request.method !== 'POST' && request.method !== 'PUT') return undefined;
  return FORMS.find(([prefix]) => request.path.startsWith(prefix))?.[1];
}

/** The Dioptra face's error replies: every /api route that is not /api/v1 (nor another face's prefix). */
export const DIOPTRA_ERROR_FACE: ErrorFace = {
  matches: (path) => path.startsWith('/api/') && !path.startsWith('/api/v1/') && path !== '/api/v1',
  render(error, request) {
    const reply = (error.code === 'VALIDATION_FAILED' && formError(request)) || DIOPTRA_ERRORS[error.code];
    const body: Record<string, unknown> = { message: reply.message };
    if (reply.detail && error.message && error.message !== reply.message) body.detail = error.message;
    return { status: reply.status, body };
  },
};
