import { Injectable } from '@nestjs/common';
import { AuthUser } from '../common/auth-user';
import { PermissionDeniedError } from '../common/errors/domain-error';
import { Page } from '../common/pagination';
import { slugify, slugifyName } from '../common/slugify';
import { QueueEntity } from './queue.entity';
import { QueueActiveError, QueueAlreadyExistsError, QueueLockedError, QueueNameInvalidError, QueueNotFoundError } from './queues.errors';
import { QueueFilter, QueueJobCounts, QueueSort, QueuesRepository, QueueValues } from './queues.repository';

/**
 * How a queue is named by a caller: by id, by name (slugified first), or by exact stored name (Dioptra's lock and
 * unlock by name compare the path value as sent, reference §2.4 Q11/Q12).
 */
export type QueueRef = { id?: number; name?: string; exactName?: string };

export interface QueueInput {
  /** Raw name from the client; slugified here. */
  name?: unknown;
  description?: string;
  /** `default`: the worker's JOB_NETWORK (stored as null). */
  network?: 'none' | 'host' | 'default';
  devices?: string[];
  /** Bytes; `default`: the worker's JOB_MEMORY_LIMIT (stored as null). */
  memoryLimit?: number | 'default';
  /** `default`: the worker's JOB_PIDS_LIMIT (stored as null). */
  pidsLimit?: number | 'default';
}

export interface QueueListQuery extends QueueFilter {
  sortBy?: QueueSort;
  orderBy?: 'asc' | 'desc';
  offset?: number;
  limit?: number;
}

export interface QueueView {
  queue: QueueEntity;
  jobCounts: QueueJobCounts;
}

/** Queue changes are admin-only (API.md §1); the checks live here so both faces share them. */
@Injectable()
export class QueuesService {
  constructor(private readonly queues: QueuesRepository) {}

  /** A live queue by id, or by name (slugified first), locked or not. */
  async get(ref: QueueRef): Promise<QueueEntity> {
    const found = await this.find(ref);
    if (!found) throw new QueueNotFoundError(ref.id ?? ref.name ?? ref.exactName ?? '');
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

  /** Live unlocked queues in id order (Dioptra's list). */
  listUnlocked(): Promise<QueueEntity[]> {
    return this.queues.findAllLiveUnlocked();
  }

  async view(ref: QueueRef): Promise<QueueView> {
    const queue = await this.get(ref);
    return { queue, jobCounts: (await this.queues.jobCounts([queue.id])).get(queue.id)! };
  }

  async list(q: QueueListQuery): Promise<Page<QueueView>> {
    const page = await this.queues.list({ name: q.name, locked: q.locked }, q.sortBy ?? 'id', q.orderBy ?? 'asc', q.offset ?? 0, q.limit ?? 100);
    const counts = await this.queues.jobCounts(page.rows.map((r) => r.id));
    return { rows: page.rows.map((queue) => ({ queue, jobCounts: counts.get(queue.id)! })), pagination: page.pagination };
  }

  async create(actor: AuthUser, input: QueueInput): Promise<QueueEntity> {
    requireAdmin(actor);
    const name = validName(input.name);
    await this.assertNameFree(name);
    const id = await this.queues.insert({ ...sandboxValues(input), name, description: input.description ?? '' });
    if (id === null) throw new QueueAlreadyExistsError(name); // lost a race for the name
    return this.get({ id });
  }

  /** Rename (slugified) or change the description. Workers address queues by id, so jobs are not stranded. */
  async update(actor: AuthUser, ref: QueueRef, input: QueueInput): Promise<QueueEntity> {
    requireAdmin(actor);
    const queue = await this.get(ref);
    const values: QueueValues = sandboxValues(input);
    if (input.name !== undefined) {
      values.name = validName(input.name);
      await this.assertNameFree(values.name, queue.id);
    }
    if (input.description !== undefined) values.description = input.description;
    if (!(await this.queues.update(queue.id, values))) throw new QueueAlreadyExistsError(values.name!);
    return this.get({ id: queue.id });
  }

  /** Soft delete, refused while jobs are queued, deferred or started on it. Unknown → QueueNotFoundError. */
  async delete(actor: AuthUser, ref: QueueRef): Promise<QueueEntity> {
    const deleted = await this.deleteIfExists(actor, ref);
    if (!deleted) throw new QueueNotFoundError(ref.id ?? ref.name ?? ref.exactName ?? '');
    return deleted;
  }

  /** As delete, but an unknown (or already deleted) queue gives null (Dioptra answers 200 with an empty list). */
  async deleteIfExists(actor: AuthUser, ref: QueueRef): Promise<QueueEntity | null> {
    requireAdmin(actor);
    const queue = await this.find(ref);
    if (!queue) return null;
    const counts = (await this.queues.jobCounts([queue.id])).get(queue.id)!;
    if (counts.queued + counts.deferred + counts.started > 0) throw new QueueActiveError(queue.id);
    return (await this.queues.softDelete(queue.id)) ? queue : null;
  }

  /** Idempotent: `changed` is false when the queue already was locked. */
  lock(actor: AuthUser, ref: QueueRef): Promise<{ queue: QueueEntity; changed: boolean }> {
    return this.setLocked(actor, ref, true);
  }

  /** Idempotent: `changed` is false when the queue was not locked. */
  unlock(actor: AuthUser, ref: QueueRef): Promise<{ queue: QueueEntity; changed: boolean }> {
    return this.setLocked(actor, ref, false);
  }

  private async setLocked(actor: AuthUser, ref: QueueRef, locked: boolean): Promise<{ queue: QueueEntity; changed: boolean }> {
    requireAdmin(actor);
    const queue = await this.get(ref);
    const changed = await this.queues.setLocked(queue.id, locked);
    return { queue: await this.get({ id: queue.id }), changed };
  }

  private find(ref: QueueRef): Promise<QueueEntity | null> {
    if (ref.id !== undefined) return this.queues.findLiveById(ref.id);
    if (ref.name !== undefined) return this.queues.findLiveByName(slugify(ref.name));
    if (ref.exactName !== undefined) return this.queues.findLiveByName(ref.exactName);
    return Promise.resolve(null);
  }

  /** Live or deleted, a queue name is taken (Dioptra's recommendation for deleted names: refuse, deterministically). */
  private async assertNameFree(name: string, selfId?: number): Promise<void> {
    const holder = await this.queues.findAnyByName(name);
    if (holder && holder.id !== selfId) throw new QueueAlreadyExistsError(name);
  }
}

function requireAdmin(actor: AuthUser): void {
  if (!actor.admin) throw new PermissionDeniedError('only admins may create, rename, delete, lock or unlock queues');
}

function validName(raw: unknown): string {
  const name = slugifyName(raw);
  if (name === null || name.includes('\u0000')) throw new QueueNameInvalidError();
  return name;
}

/** The sandbox choices as stored: `default` becomes null (the worker's setting); what was not given stays unset. */
function sandboxValues(input: QueueInput): QueueValues {
  const values: QueueValues = {};
  const stored = <T>(v: T | 'default'): T | null => (v === 'default' ? null : v);
  if (input.network !== undefined) values.network = stored(input.network);
  if (input.devices !== undefined) values.devices = input.devices;
  if (input.memoryLimit !== undefined) values.memoryLimit = stored(input.memoryLimit);
  if (input.pidsLimit !== undefined) values.pidsLimit = stored(input.pidsLimit);
  return values;
}
