import { Column, Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { TaskPluginEntity } from './task-plugin.entity';

/** One module of a task plugin: its basename (always `*.py`) and source bytes. */
@Entity('task_plugin_file')
export class TaskPluginFileEntity {
  @PrimaryColumn({ name: 'plugin_id', type: 'int' }) pluginId: number;

  @PrimaryColumn({ type: 'text' }) filename: string;

  @Column({ type: 'bytea' }) content: Buffer;

  @ManyToOne(() => TaskPluginEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'plugin_id' })
  plugin?: TaskPluginEntity;
}
