import { Injectable } from '@nestjs/common';
import { slugify } from '../common/slugify';
import { QueueEntity } from './queue.entity';
import { QueueLockedError, QueueNotFoundError } from './queues.errors';
import { QueuesRepository } from './queues.repository';

@Injectable()
export class QueuesService {
  constructor(private readonly queues: QueuesRepository) {}

  /** A live queue by id, or by name (slugified first), locked or not. */
  async get(ref: { id?: number; name?: string }): Promise<QueueEntity> {
    const found = ref.id !== undefined ? await this.queues.findLiveById(ref.id) : ref.name !== undefined ? await this.queues.findLiveByName(slugify(ref.name)) : null;
    if (!found) throw new QueueNotFoundError(ref.id ?? ref.name ?? '');
    return found;
  }

  /** The queue a new job goes to: it must exist and be unlocked. */
  async getForSubmission(ref: { id?: number; name?: string }): Promise<QueueEntity> {
    const queue = await this.get(ref);
    if (queue.lockedAt) throw new QueueLockedError();
    return queue;
  }

  /** Every live queue (workers serving all queues poll this). */
  listAllLive(): Promise<QueueEntity[]> {
    return this.queues.findAllLive();
  }
}
