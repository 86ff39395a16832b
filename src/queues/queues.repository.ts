import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, IsNull } from 'typeorm';
import { Page, pageWindow } from '../common/pagination';
import { escapeLike, isRowId, isStorableText, isUniqueViolation } from '../common/sql';
import { QueueEntity } from './queue.entity';

/** The columns a caller may set on create and patch. */
export type QueueValues = Partial<Pick<QueueEntity, 'name' | 'description' | 'network' | 'devices' | 'memoryLimit' | 'pidsLimit'>>;

/** Jobs on a queue that are not over yet. */
export interface QueueJobCounts {
  queued: number;
  deferred: number;
  started: number;
}

export interface QueueFilter {
  name?: string;
  locked?: boolean;
}

export type QueueSort = 'id' | 'name' | 'createdAt' | 'lastModified';

const SORT_COLUMNS: Record<QueueSort, string> = { id: 'q.id', name: 'q.name', createdAt: 'q.created_at', lastModified: 'q.last_modified' };

@Injectable()
export class QueuesRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  private repo(em?: EntityManager) {
    return (em ?? this.ds.manager).getRepository(QueueEntity);
  }

  findLiveById(id: number, em?: EntityManager): Promise<QueueEntity | null> {
    if (!isRowId(id)) return Promise.resolve(null);
    return this.repo(em).findOneBy({ id, deletedAt: IsNull() });
  }

  findLiveByName(name: string, em?: EntityManager): Promise<QueueEntity | null> {
    if (!isStorableText(name)) return Promise.resolve(null);
    return this.repo(em).findOneBy({ name, deletedAt: IsNull() });
  }

  /** The row holding a name, deleted or not (names of deleted queues stay reserved). */
  findAnyByName(name: string, em?: EntityManager): Promise<QueueEntity | null> {
    if (!isStorableText(name)) return Promise.resolve(null);
    return this.repo(em).findOneBy({ name });
  }

  /** Every live queue, locked ones too, in id order (workers discover queues with this). */
  findAllLive(): Promise<QueueEntity[]> {
    return this.repo().find({ where: { deletedAt: IsNull() }, order: { id: 'ASC' } });
  }

  /** Live unlocked queues in id order (Dioptra's list hides locked queues). */
  findAllLiveUnlocked(): Promise<QueueEntity[]> {
    return this.repo().find({ where: { deletedAt: IsNull(), lockedAt: IsNull() }, order: { id: 'ASC' } });
  }

  /** Inserts; returns the new id, or null when the name is taken (unique index), so a race never becomes a 500. */
  async insert(values: QueueValues & { name: string; description: string }, em?: EntityManager): Promise<number | null> {
    const rows: Array<{ id: number }> = await (em ?? this.ds.manager).query(
      `INSERT INTO queue (name, description, network, devices, memory_limit, pids_limit) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING id`,
      [values.name, values.description, values.network ?? null, values.devices ?? [], values.memoryLimit ?? null, values.pidsLimit ?? null],
    );
    return rows.length ? rows[0].id : null;
  }

  /** Updates a live queue and bumps last_modified; false when the new name is taken. */
  async update(id: number, values: QueueValues, em?: EntityManager): Promise<boolean> {
    try {
      await this.repo(em).update({ id, deletedAt: IsNull() }, { ...values, lastModified: () => 'now()' });
      return true;
    } catch (e) {
      if (isUniqueViolation(e)) return false;
      throw e;
    }
  }

  /** Locks or unlocks a live queue; false when it already was in that state. Does not touch last_modified (as Dioptra). */
  async setLocked(id: number, locked: boolean, em?: EntityManager): Promise<boolean> {
    const res = await this.repo(em)
      .createQueryBuilder()
      .update()
      .set({ lockedAt: locked ? () => 'now()' : null })
      .where(`id = :id AND deleted_at IS NULL AND locked_at IS ${locked ? '' : 'NOT '}NULL`, { id })
      .execute();
    return (res.affected ?? 0) > 0;
  }

  /** Soft delete; false when it was already gone. The name stays reserved, the id is never reused. */
  async softDelete(id: number, em?: EntityManager): Promise<boolean> {
    const res = await this.repo(em)
      .createQueryBuilder()
      .update()
      .set({ deletedAt: () => 'now()', lastModified: () => 'now()' })
      .where('id = :id AND deleted_at IS NULL', { id })
      .execute();
    return (res.affected ?? 0) > 0;
  }

  /** One filtered, sorted page of live queues, locked ones too. */
  async list(filter: QueueFilter, sortBy: QueueSort, order: 'asc' | 'desc', offset: number, limit: number): Promise<Page<QueueEntity>> {
    const qb = this.repo().createQueryBuilder('q').where('q.deleted_at IS NULL');
    if (filter.name) qb.andWhere('q.name ILIKE :name', { name: `%${escapeLike(filter.name)}%` });
    if (filter.locked !== undefined) qb.andWhere(`q.locked_at IS ${filter.locked ? 'NOT ' : ''}NULL`);
    const total = await qb.getCount();
    const pagination = pageWindow(total, offset, limit);
    if (pagination.endIndex <= pagination.startIndex) return { rows: [], pagination };
    const dir = order === 'desc' ? 'DESC' : 'ASC';
    if (sortBy !== 'id') qb.orderBy(SORT_COLUMNS[sortBy], dir);
    const rows = await qb
      .addOrderBy('q.id', dir)
      .offset(pagination.startIndex)
      .limit(pagination.endIndex - pagination.startIndex)
      .getMany();
    return { rows, pagination };
  }

  /** Queued, deferred and started jobs per queue, from the (queue_id, status) index of `job`. */
  async jobCounts(ids: number[], em?: EntityManager): Promise<Map<number, QueueJobCounts>> {
    const out = new Map<number, QueueJobCounts>(ids.map((id) => [id, { queued: 0, deferred: 0, started: 0 }]));
    if (ids.length === 0) return out;
    const rows: Array<{ queue_id: number; status: keyof QueueJobCounts; n: number }> = await (em ?? this.ds.manager).query(
      `SELECT queue_id, status, count(*)::int AS n FROM job
        WHERE queue_id = ANY($1::int[]) AND status IN ('queued', 'deferred', 'started') GROUP BY queue_id, status`,
      [ids],
    );
    for (const r of rows) out.get(r.queue_id)![r.status] = r.n;
    return out;
  }
}
