import { DomainError } from '../common/errors/domain-error';

// Messages are MLflow's own texts (mlflow/store/tracking/sqlalchemy_store.py, mlflow/utils/validation.py), since
// scripts and notebooks print them.

/** MLflow's INVALID_PARAMETER_VALUE (400). */
export class TrackingInvalidError extends DomainError {
  constructor(message: string) {
    super('TRACKING_INVALID', message);
  }
}

/** MLflow's RESOURCE_DOES_NOT_EXIST (404). */
export class TrackingNotFoundError extends DomainError {
  constructor(message: string) {
    super('TRACKING_NOT_FOUND', message);
  }
}

/** MLflow's RESOURCE_ALREADY_EXISTS (400 on the MLflow face). */
export class TrackingAlreadyExistsError extends DomainError {
  constructor(message: string) {
    super('TRACKING_ALREADY_EXISTS', message);
  }
}

export class RunNotFoundError extends TrackingNotFoundError {
  constructor(runId: string) {
    super(`Run with id=${runId} not found`);
  }
}

export class RunNotActiveError extends TrackingInvalidError {
  constructor(runId: string, stage: string) {
    super(`The run ${runId} must be in the 'active' state. Current state is ${stage}.`);
  }
}

/** "Missing value for required parameter 'run_id'. See the API docs…" (the server's request schema check). */
export class MissingParameterError extends TrackingInvalidError {
  constructor(path: string) {
    super(`Missing value for required parameter '${path}'. See the API docs for more information about request parameters.`);
  }
}
