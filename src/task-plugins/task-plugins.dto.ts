import { ApiProperty } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString } from 'class-validator';
import { PageQueryDto, PaginationDto } from '../common/pagination';
import { TASK_PLUGIN_COLLECTIONS, type TaskPluginCollection } from './task-plugin.entity';

export class TaskPluginDto {
  /** The package name (jobs import `<collection>.<name>.<module>`). */
  @ApiProperty() name: string;
  @ApiProperty({ enum: TASK_PLUGIN_COLLECTIONS }) collection: TaskPluginCollection;
  /** Basenames of the package's modules, sorted. */
  @ApiProperty({ type: [String] }) modules: string[];
  @ApiProperty() createdAt: string;
  /** The uploader; null for builtins. */
  @ApiProperty({ type: String, nullable: true }) username: string | null;
}

export class TaskPluginReplyDto {
  @ApiProperty({ type: TaskPluginDto }) taskPlugin: TaskPluginDto;
}

export class TaskPluginsPageDto {
  @ApiProperty({ type: [TaskPluginDto] }) taskPlugins: TaskPluginDto[];
  @ApiProperty({ type: PaginationDto }) pagination: PaginationDto;
}

export class TaskPluginsQueryDto extends PageQueryDto {
  @ApiProperty({ enum: TASK_PLUGIN_COLLECTIONS, required: false })
  @IsOptional()
  @IsIn(TASK_PLUGIN_COLLECTIONS)
  collection?: TaskPluginCollection;

  @ApiProperty({ enum: ['id', 'name'], required: false, default: 'id' })
  @IsOptional()
  @IsIn(['id', 'name'])
  sortBy?: 'id' | 'name' = 'id';
}

/** multipart/form-data: the package name and its archive (tar, tar.gz or zip; only `.py` files are kept, flattened). */
export class UploadTaskPluginDto {
  /** A Python identifier ([A-Za-z_][A-Za-z0-9_]*, not a keyword, not __init__, at most 255 bytes); jobs import dioptra_custom.<name>.<module>. */
  @IsString() name: string;

  @ApiProperty({ type: 'string', format: 'binary', description: 'tar, tar.gz or zip archive of the package' })
  @IsOptional()
  file?: unknown;
}

export class TaskPluginEmptyDto {}
