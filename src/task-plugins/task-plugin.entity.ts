import { Check, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { UserEntity } from '../users/user.entity';

export const TASK_PLUGIN_COLLECTIONS = ['dioptra_builtins', 'dioptra_custom'] as const;
export type TaskPluginCollection = (typeof TASK_PLUGIN_COLLECTIONS)[number];

/**
 * A task plugin package: a folder of Python modules importable by jobs as `<collection>.<name>.<module>`.
 * Builtins are reloaded from disk at API start; custom plugins are uploaded and deleted for real (as Dioptra does).
 */
@Entity('task_plugin')
@Check('CHK_task_plugin_collection', `"collection" IN ('dioptra_builtins', 'dioptra_custom')`)
@Index('UQ_task_plugin_collection_name', ['collection', 'name'], { unique: true })
export class TaskPluginEntity {
  @PrimaryGeneratedColumn() id: number;

  @Column({ type: 'text' }) collection: TaskPluginCollection;

  @Index('IDX_task_plugin_name')
  @Column({ type: 'text' })
  name: string;

  /** The uploader; null for builtins. */
  @Column({ name: 'owner_id', type: 'int', nullable: true }) ownerId: number | null;

  @ManyToOne(() => UserEntity, { onDelete: 'RESTRICT', nullable: true })
  @JoinColumn({ name: 'owner_id' })
  owner?: UserEntity | null;

  @Column({ name: 'created_at', type: 'timestamptz', precision: 3, default: () => 'now()' }) createdAt: Date;
}
