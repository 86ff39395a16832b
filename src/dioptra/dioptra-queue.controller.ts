import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, UploadedFiles, UseInterceptors } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiConsumes, ApiTags } from '@nestjs/swagger';
import { AdminOnly, AuthUser, CurrentUser } from '../common/auth-user';
import { QueueNameInvalidError } from '../queues/queues.errors';
import { QueuesService } from '../queues/queues.service';
import { DioptraIdStatusDto, DioptraNameBodyDto, DioptraNameStatusDto, DioptraQueueDto } from './dioptra.dto';
import { DioptraFieldMaskInterceptor, DioptraFormInterceptor, DioptraId, readDioptraBody } from './dioptra-http';
import { idStatus, nameStatus, toDioptraQueue } from './dioptra-serializers';

const NAME_FIELDS = ['name'] as const;
const formInvalid = (reason: string) => new QueueNameInvalidError(reason);
type UploadedParts = Array<{ fieldname: string }> | undefined;

/**
 * Dioptra 0.x queues (reference §2.4, Q1–Q12). Every success is 200; changes are admin-only (API.md §1). Name routes
 * come first so `PUT /api/queue/name/lock` renames the queue `lock` rather than reading `name` as an id.
 */
@ApiTags('Dioptra: queues')
@ApiBearerAuth()
@Controller('api/queue')
@UseInterceptors(DioptraFieldMaskInterceptor)
export class DioptraQueueController {
  constructor(private readonly queues: QueuesService) {}

  /** Q1: live queues without a lock, in id order (locked ones stay readable by id and name). */
  @Get()
  async list(): Promise<DioptraQueueDto[]> {
    return (await this.queues.listUnlocked()).map(toDioptraQueue);
  }

  /** Q2: register (admin); the name is slugified. */
  @Post()
  @HttpCode(200)
  @AdminOnly()
  @UseInterceptors(DioptraFormInterceptor)
  @ApiConsumes('application/json', 'application/x-www-form-urlencoded', 'multipart/form-data')
  @ApiBody({ type: DioptraNameBodyDto })
  async register(@CurrentUser() actor: AuthUser, @Body() body: unknown, @UploadedFiles() files: UploadedParts): Promise<DioptraQueueDto> {
    const form = readDioptraBody(body, NAME_FIELDS, formInvalid, files);
    return toDioptraQueue(await this.queues.create(actor, { name: form.name }));
  }

  /** Q8: by name (slugified), locked or not. */
  @Get('name/:name')
  async getByName(@Param('name') name: string): Promise<DioptraQueueDto> {
    return toDioptraQueue(await this.queues.get({ name }));
  }

  /** Q9 (classic): rename by name (admin). */
  @Put('name/:name')
  @AdminOnly()
  @UseInterceptors(DioptraFormInterceptor)
  @ApiConsumes('application/json', 'application/x-www-form-urlencoded', 'multipart/form-data')
  @ApiBody({ type: DioptraNameBodyDto })
  async renameByName(@CurrentUser() actor: AuthUser, @Param('name') name: string, @Body() body: unknown, @UploadedFiles() files: UploadedParts): Promise<DioptraQueueDto> {
    const form = readDioptraBody(body, NAME_FIELDS, formInvalid, files);
    return toDioptraQueue(await this.queues.update(actor, { name }, { name: form.name ?? null }));
  }

  /** Q10: soft delete by name (admin); replies the slugified name, or an empty list when there was none. */
  @Delete('name/:name')
  @AdminOnly()
  async deleteByName(@CurrentUser() actor: AuthUser, @Param('name') name: string): Promise<DioptraNameStatusDto> {
    const deleted = await this.queues.deleteIfExists(actor, { name });
    return nameStatus(deleted ? [deleted.name] : []);
  }

  /** Q11: lock by the exact stored name (not slugified, as in Dioptra); already locked → `"name": []`. */
  @Put('name/:name/lock')
  @AdminOnly()
  async lockByName(@CurrentUser() actor: AuthUser, @Param('name') name: string): Promise<DioptraNameStatusDto> {
    const { queue, changed } = await this.queues.lock(actor, { exactName: name });
    return nameStatus(changed ? [queue.name] : []);
  }

  /** Q12: unlock by the exact stored name; not locked → `"name": []`. */
  @Delete('name/:name/lock')
  @AdminOnly()
  async unlockByName(@CurrentUser() actor: AuthUser, @Param('name') name: string): Promise<DioptraNameStatusDto> {
    const { queue, changed } = await this.queues.unlock(actor, { exactName: name });
    return nameStatus(changed ? [queue.name] : []);
  }

  /** Q3: by id, locked or not. */
  @Get(':id')
  async get(@DioptraId() id: number): Promise<DioptraQueueDto> {
    return toDioptraQueue(await this.queues.get({ id }));
  }

  /** Q4: rename (admin); the new name is slugified. */
  @Put(':id')
  @AdminOnly()
  @UseInterceptors(DioptraFormInterceptor)
  @ApiConsumes('application/json', 'application/x-www-form-urlencoded', 'multipart/form-data')
  @ApiBody({ type: DioptraNameBodyDto })
  async rename(@CurrentUser() actor: AuthUser, @DioptraId() id: number, @Body() body: unknown, @UploadedFiles() files: UploadedParts): Promise<DioptraQueueDto> {
    const form = readDioptraBody(body, NAME_FIELDS, formInvalid, files);
    return toDioptraQueue(await this.queues.update(actor, { id }, { name: form.name ?? null }));
  }

  /** Q5: soft delete (admin); an unknown id → `"id": []`. */
  @Delete(':id')
  @AdminOnly()
  async delete(@CurrentUser() actor: AuthUser, @DioptraId() id: number): Promise<DioptraIdStatusDto> {
    return idStatus((await this.queues.deleteIfExists(actor, { id })) ? [id] : []);
  }

  /** Q6: lock (admin, idempotent: already locked → `"id": []`); unknown → 404. */
  @Put(':id/lock')
  @AdminOnly()
  async lock(@CurrentUser() actor: AuthUser, @DioptraId() id: number): Promise<DioptraIdStatusDto> {
    const { changed } = await this.queues.lock(actor, { id });
    return idStatus(changed ? [id] : []);
  }

  /** Q7: unlock (admin, idempotent: not locked → `"id": []`); unknown → 404. */
  @Delete(':id/lock')
  @AdminOnly()
  async unlock(@CurrentUser() actor: AuthUser, @DioptraId() id: number): Promise<DioptraIdStatusDto> {
    const { changed } = await this.queues.unlock(actor, { id });
    return idStatus(changed ? [id] : []);
  }
}
