import { Body, Controller, Delete, Get, HttpCode, Param, Post, UploadedFiles, UseInterceptors } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiConsumes, ApiTags } from '@nestjs/swagger';
import { AuthUser, CurrentUser } from '../common/auth-user';
import { TaskPluginUploadInterceptor, UploadedFile } from '../task-plugins/task-plugin-upload.interceptor';
import { TaskPluginUploadInvalidError } from '../task-plugins/task-plugins.errors';
import { BUILTINS, CUSTOM, TaskPluginsService } from '../task-plugins/task-plugins.service';
import { DioptraFieldMaskInterceptor, readDioptraBody } from './dioptra-http';
import { DioptraTaskPluginDeleteStatusDto, DioptraTaskPluginDto, DioptraTaskPluginUploadForm } from './dioptra-task-plugin.dto';

const FILE_FIELDS = ['task_plugin_file', 'taskPluginFile'];
const UPLOAD_FIELDS = ['task_plugin_name', 'taskPluginName', 'collection', ...FILE_FIELDS];
const uploadInvalid = (reason: string) => new TaskPluginUploadInvalidError(reason);

function toDioptraTaskPlugin(p: { name: string; collection: string; modules: string[] }): DioptraTaskPluginDto {
  return { taskPluginName: p.name, collection: p.collection, modules: p.modules };
}

/** Dioptra's `/api/taskPlugin/` routes (reference §2.5, T1–T7) over the same TaskPluginsService as /api/v1/task-plugins. */
@ApiTags('Dioptra: task plugins')
@ApiBearerAuth()
@Controller('api/taskPlugin')
@UseInterceptors(DioptraFieldMaskInterceptor)
export class DioptraTaskPluginController {
  constructor(private readonly plugins: TaskPluginsService) {}

  /** T1: every task plugin, builtins first, then custom. */
  @Get()
  async listAll(): Promise<DioptraTaskPluginDto[]> {
    return (await this.plugins.listAll()).map(toDioptraTaskPlugin);
  }

  /** T2: upload a custom task plugin package (multipart `task_plugin_name`, `collection`, file `task_plugin_file`). */
  @Post()
  @HttpCode(200)
  @ApiConsumes('multipart/form-data')
  @ApiBody({ type: DioptraTaskPluginUploadForm })
  @UseInterceptors(TaskPluginUploadInterceptor(FILE_FIELDS))
  async upload(@CurrentUser() actor: AuthUser, @Body() body: unknown, @UploadedFiles() files: UploadedFile[] | undefined): Promise<DioptraTaskPluginDto> {
    const form = readDioptraBody(body, UPLOAD_FIELDS, uploadInvalid, files);
    const name = form.task_plugin_name ?? form.taskPluginName;
    return toDioptraTaskPlugin(await this.plugins.uploadDioptra(actor, { name, collection: form.collection, file: files?.[0] }));
  }

  /** T3: the builtin task plugins. */
  @Get('dioptra_builtins')
  async listBuiltins(): Promise<DioptraTaskPluginDto[]> {
    return (await this.plugins.listAll(BUILTINS)).map(toDioptraTaskPlugin);
  }

  /** T4: one builtin task plugin. */
  @Get('dioptra_builtins/:taskPluginName')
  async getBuiltin(@Param('taskPluginName') name: string): Promise<DioptraTaskPluginDto> {
    return toDioptraTaskPlugin(await this.plugins.get(BUILTINS, name));
  }

  /** T5: the custom task plugins. */
  @Get('dioptra_custom')
  async listCustom(): Promise<DioptraTaskPluginDto[]> {
    return (await this.plugins.listAll(CUSTOM)).map(toDioptraTaskPlugin);
  }

  /** T6: one custom task plugin. */
  @Get('dioptra_custom/:taskPluginName')
  async getCustom(@Param('taskPluginName') name: string): Promise<DioptraTaskPluginDto> {
    return toDioptraTaskPlugin(await this.plugins.get(CUSTOM, name));
  }

  /** T7: delete a custom task plugin (owner or admin); a missing one answers with an empty list. */
  @Delete('dioptra_custom/:taskPluginName')
  async deleteCustom(@CurrentUser() actor: AuthUser, @Param('taskPluginName') name: string): Promise<DioptraTaskPluginDeleteStatusDto> {
    return { status: 'Success', collection: 'dioptra_custom', taskPluginName: await this.plugins.deleteCustom(actor, name, true) };
  }
}
