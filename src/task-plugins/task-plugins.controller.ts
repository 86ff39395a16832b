import { Body, Controller, Delete, Get, Param, Post, Query, StreamableFile, UploadedFiles, UseInterceptors } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiConsumes, ApiOkResponse, ApiParam, ApiProduces, ApiTags } from '@nestjs/swagger';
import { AuthUser, CurrentUser } from '../common/auth-user';
import { toIso } from '../common/time';
import { TASK_PLUGIN_COLLECTIONS } from './task-plugin.entity';
import { TaskPluginUploadInterceptor, UploadedFile } from './task-plugin-upload.interceptor';
import { TaskPluginDto, TaskPluginEmptyDto, TaskPluginReplyDto, TaskPluginsPageDto, TaskPluginsQueryDto, UploadTaskPluginDto } from './task-plugins.dto';
import { TaskPluginRow } from './task-plugins.repository';
import { CUSTOM, TaskPluginsService } from './task-plugins.service';

function toTaskPluginDto(row: TaskPluginRow): TaskPluginDto {
  return { name: row.name, collection: row.collection, modules: row.modules, createdAt: toIso(row.createdAt)!, username: row.username };
}

@ApiTags('Task plugins')
@ApiBearerAuth()
@Controller('api/v1/task-plugins')
export class TaskPluginsController {
  constructor(private readonly plugins: TaskPluginsService) {}

  /** List task plugins of both collections (builtins are read-only, custom ones are uploaded). */
  @Get()
  async list(@Query() q: TaskPluginsQueryDto): Promise<TaskPluginsPageDto> {
    const page = await this.plugins.list(q);
    return { taskPlugins: page.rows.map(toTaskPluginDto), pagination: page.pagination };
  }

  /** Upload a custom task plugin package (stored in `dioptra_custom`, flattened, `.py` files only). Existing name → 409. */
  @Post()
  @ApiConsumes('multipart/form-data')
  @ApiBody({ type: UploadTaskPluginDto })
  @UseInterceptors(TaskPluginUploadInterceptor(['file']))
  async upload(@CurrentUser() actor: AuthUser, @Body() dto: UploadTaskPluginDto, @UploadedFiles() files: UploadedFile[] | undefined): Promise<TaskPluginReplyDto> {
    return { taskPlugin: toTaskPluginDto(await this.plugins.create(actor, { name: dto.name, collection: CUSTOM, file: files?.[0] })) };
  }

  /** Get a task plugin. */
  @Get(':collection/:name')
  @ApiParam({ name: 'collection', enum: TASK_PLUGIN_COLLECTIONS })
  async get(@Param('collection') collection: string, @Param('name') name: string): Promise<TaskPluginReplyDto> {
    return { taskPlugin: toTaskPluginDto(await this.plugins.get(collection, name)) };
  }

  /** Download one module's source. */
  @Get(':collection/:name/files/:file')
  @ApiParam({ name: 'collection', enum: TASK_PLUGIN_COLLECTIONS })
  @ApiProduces('text/x-python')
  @ApiOkResponse({ description: 'The module source.', schema: { type: 'string' } })
  async file(@Param('collection') collection: string, @Param('name') name: string, @Param('file') file: string): Promise<StreamableFile> {
    return new StreamableFile(await this.plugins.readFile(collection, name, file), { type: 'text/x-python' });
  }

  /** Delete a custom task plugin (owner or admin). */
  @Delete('dioptra_custom/:name')
  async delete(@CurrentUser() actor: AuthUser, @Param('name') name: string): Promise<TaskPluginEmptyDto> {
    await this.plugins.deleteCustom(actor, name, false);
    return {};
  }
}
