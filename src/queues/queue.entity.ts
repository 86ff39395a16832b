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

  @Column({ name: 'created_at', type: 'timestamptz', precision: 3, default: () => 'now()' }) createdAt: Date;

  @Column({ name: 'last_modified', type: 'timestamptz', precision: 3, default: () => 'now()' }) lastModified: Date;

  @Column({ name: 'deleted_at', type: 'timestamptz', precision: 3, nullable: true }) deletedAt: Date | null;
}
