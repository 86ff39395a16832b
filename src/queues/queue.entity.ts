import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** A named queue. Workers address queues by id, so renaming never strands jobs. Soft delete keeps the name reserved. */
@Entity('queue')
export class QueueEntity {
  @PrimaryGeneratedColumn() id: number;

  @Index('UQ_queue_name', { unique: true })
  @Column({ type: 'text' })
  name: string;

  @Column({ type: 'text', default: '' }) description: string;

  /** Set while the queue is locked (refuses new jobs, hidden from Dioptra's list). */
  @Column({ name: 'locked_at', type: 'timestamptz', precision: 3, nullable: true }) lockedAt: Date | null;

  /** The sandbox's network for jobs on this queue: `none` (own loopback, tracking forwarded) or `host`; null = the worker's JOB_NETWORK. */
  @Column({ type: 'text', nullable: true }) network: 'none' | 'host' | null;

  /** Device paths (globs such as /dev/nvidia*) bound into the sandbox of this queue's jobs, besides JOB_DEVICES. */
  @Column({ type: 'text', array: true, default: () => "'{}'" }) devices: string[];

  /** Memory limit in bytes for this queue's jobs; null = the worker's JOB_MEMORY_LIMIT. bigint, read as a number. */
  @Column({ name: 'memory_limit', type: 'bigint', nullable: true, transformer: { to: (v: number | null) => v, from: (v: string | null) => (v === null ? null : Number(v)) } })
  memoryLimit: number | null;

  /** Process limit for this queue's jobs; null = the worker's JOB_PIDS_LIMIT. */
  @Column({ name: 'pids_limit', type: 'integer', nullable: true }) pidsLimit: number | null;

  @Column({ name: 'created_at', type: 'timestamptz', precision: 3, default: () => 'now()' }) createdAt: Date;

  @Column({ name: 'last_modified', type: 'timestamptz', precision: 3, default: () => 'now()' }) lastModified: Date;

  @Column({ name: 'deleted_at', type: 'timestamptz', precision: 3, nullable: true }) deletedAt: Date | null;
}
