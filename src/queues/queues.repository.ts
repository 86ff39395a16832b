import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, IsNull } from 'typeorm';
import { QueueEntity } from './queue.entity';

@Injectable()
export class QueuesRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  private repo(em?: EntityManager) {
    return (em ?? this.ds.manager).getRepository(QueueEntity);
  }

  findLiveById(id: number, em?: EntityManager): Promise<QueueEntity | null> {
    return this.repo(em).findOneBy({ id, deletedAt: IsNull() });
  }

  findLiveByName(name: string, em?: EntityManager): Promise<QueueEntity | null> {
    return this.repo(em).findOneBy({ name, deletedAt: IsNull() });
  }

  /** Every live queue, locked ones too, in id order (workers discover queues with this). */
  findAllLive(): Promise<QueueEntity[]> {
    return this.repo().find({ where: { deletedAt: IsNull() }, order: { id: 'ASC' } });
  }
}
