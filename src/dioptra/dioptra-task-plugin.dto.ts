import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** Dioptra's TaskPlugin (reference §2.1). */
export class DioptraTaskPluginDto {
  /** Package (folder) name. */
  @ApiProperty() taskPluginName: string;
  @ApiProperty({ enum: ['dioptra_builtins', 'dioptra_custom'] }) collection: string;
  /** Basenames of the package's files, e.g. ["__init__.py", "fgm.py"]. */
  @ApiProperty({ type: [String] }) modules: string[];
}

/** Dioptra's TaskPluginDeleteStatus: the deleted name, or none. */
export class DioptraTaskPluginDeleteStatusDto {
  @ApiProperty({ example: 'Success' }) status: 'Success';
  @ApiProperty({ example: 'dioptra_custom' }) collection: 'dioptra_custom';
  @ApiProperty({ type: [String] }) taskPluginName: string[];
}

/** multipart/form-data of `POST /api/taskPlugin/` (camelCase spellings are accepted too). */
export class DioptraTaskPluginUploadForm {
  /** Name of the package: a Python identifier ([A-Za-z_][A-Za-z0-9_]*, not a keyword, not __init__, at most 255 bytes). */
  @ApiProperty() task_plugin_name: string;
  @ApiProperty({ type: 'string', format: 'binary', description: 'tar (any compression) or zip archive; name ends in .tar .tgz .bz2 .gz .xz or .zip' })
  task_plugin_file: unknown;
  @ApiProperty({ enum: ['dioptra_custom'] }) collection: string;
  @ApiPropertyOptional() taskPluginName?: string;
  @ApiPropertyOptional({ type: 'string', format: 'binary' }) taskPluginFile?: unknown;
}
