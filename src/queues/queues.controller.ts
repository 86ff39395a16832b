import { Body, Controller, Delete, Get, Param, Patch, Post, Put, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { AdminOnly, AuthUser, CurrentUser } from '../common/auth-user';
import { toIso } from '../common/time';
import { IntParamPipe } from '../common/validation';
import { EmptyDto } from '../users/users.dto';
import { CreateQueueDto, PatchQueueDto, QueueDto, QueueReplyDto, QueuesPageDto, QueuesQueryDto } from './queues.dto';
import { QueuesService, QueueView } from './queues.service';

@ApiTags('Queues')
@ApiBearerAuth()
@Controller('api/v1/queues')
export class QueuesController {
  constructor(private readonly queues: QueuesService) {}

  /** All live queues, locked ones too; filters name, locked. */
  @Get()
  async list(@Query() q: QueuesQueryDto): Promise<QueuesPageDto> {
    const page = await this.queues.list(q);
    return { queues: page.rows.map(toQueueDto), pagination: page.pagination };
  }

  /** Create a queue (admin); the name is slugified. A name in use (also by a deleted queue) → 409. */
  @Post()
  @AdminOnly()
  async create(@CurrentUser() actor: AuthUser, @Body() dto: CreateQueueDto): Promise<QueueReplyDto> {
    const created = await this.queues.create(actor, dto);
    return { queue: toQueueDto(await this.queues.view({ id: created.id })) };
  }

  @Get(':id')
  async get(@Param('id', IntParamPipe) id: number): Promise<QueueReplyDto> {
    return { queue: toQueueDto(await this.queues.view({ id })) };
  }

  /** Rename or describe a queue (admin). Jobs follow the queue by id. */
  @Patch(':id')
  @AdminOnly()
  async patch(@CurrentUser() actor: AuthUser, @Param('id', IntParamPipe) id: number, @Body() dto: PatchQueueDto): Promise<QueueReplyDto> {
    await this.queues.update(actor, { id }, dto);
    return { queue: toQueueDto(await this.queues.view({ id })) };
  }

  /** Soft delete (admin); refused (400) while jobs are queued, deferred or started on it. */
  @Delete(':id')
  @AdminOnly()
  async delete(@CurrentUser() actor: AuthUser, @Param('id', IntParamPipe) id: number): Promise<EmptyDto> {
    await this.queues.delete(actor, { id });
    return {};
  }

  /** Lock (admin, idempotent): the queue refuses new jobs. */
  @Put(':id/lock')
  @AdminOnly()
  async lock(@CurrentUser() actor: AuthUser, @Param('id', IntParamPipe) id: number): Promise<QueueReplyDto> {
    await this.queues.lock(actor, { id });
    return { queue: toQueueDto(await this.queues.view({ id })) };
  }

  /** Unlock (admin, idempotent). */
  @Delete(':id/lock')
  @AdminOnly()
  async unlock(@CurrentUser() actor: AuthUser, @Param('id', IntParamPipe) id: number): Promise<QueueReplyDto> {
    await this.queues.unlock(actor, { id });
    return { queue: toQueueDto(await this.queues.view({ id })) };
  }
}

export function toQueueDto({ queue: q, jobCounts }: QueueView): QueueDto {
  return {
    id: q.id,
    name: q.name,
    description: q.description,
    locked: q.lockedAt !== null,
    lockedAt: toIso(q.lockedAt),
    createdAt: toIso(q.createdAt)!,
    lastModified: toIso(q.lastModified)!,
    jobCounts,
    network: q.network,
    devices: q.devices,
    memoryLimit: q.memoryLimit,
    pidsLimit: q.pidsLimit,
  };
}
