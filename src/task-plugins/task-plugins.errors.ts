import { DomainError } from '../common/errors/domain-error';

export class TaskPluginNotFoundError extends DomainError {
  constructor(collection: string, name: string) {
    super('TASK_PLUGIN_NOT_FOUND', `task plugin '${collection}/${name}' not found`);
  }
}

export class TaskPluginFileNotFoundError extends DomainError {
  constructor(collection: string, name: string, filename: string) {
    super('TASK_PLUGIN_FILE_NOT_FOUND', `task plugin '${collection}/${name}' has no file '${filename}'`);
  }
}

export class TaskPluginAlreadyExistsError extends DomainError {
  constructor(name: string) {
    super('TASK_PLUGIN_ALREADY_EXISTS', `task plugin 'dioptra_custom/${name}' already exists; delete it first to replace it`);
  }
}

/** Anything wrong with an upload: missing or bad field, wrong collection, not an archive, unsafe or too large archive. */
export class TaskPluginUploadInvalidError extends DomainError {
  constructor(reason: string) {
    super('TASK_PLUGIN_UPLOAD_INVALID', reason);
  }
}
