import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { Page, pageWindow } from '../common/pagination';
import { TaskPluginCollection } from './task-plugin.entity';

/** A plugin as both faces show it: the row, its uploader's name and its module basenames (byte order). */
export interface TaskPluginRow {
  id: number;
  collection: TaskPluginCollection;
  name: string;
  ownerId: number | null;
  username: string | null;
  createdAt: Date;
  modules: string[];
}

export interface PluginFile {
  filename: string;
  content: Buffer;
}

/** A builtin package read from disk. */
export interface BuiltinPackage {
  name: string;
  files: PluginFile[];
}

const SORT_COLUMNS = { id: 'p.id', name: 'p.name' } as const;
export type TaskPluginSort = keyof typeof SORT_COLUMNS;

/** Arbitrary but fixed: API processes starting together take it before replacing the builtin rows. */
const BUILTINS_LOCK_KEY = 7_311_984_222;

// COLLATE "C" everywhere names are ordered for Dioptra: S3 lists keys in byte order.
const SELECT_ROWS = `
  SELECT p.id, p.collection, p.name, p.owner_id AS "ownerId", u.username, p.created_at AS "createdAt",
         COALESCE((SELECT array_agg(f.filename ORDER BY f.filename COLLATE "C") FROM task_plugin_file f WHERE f.plugin_id = p.id), '{}') AS modules
  FROM task_plugin p LEFT JOIN "user" u ON u.id = p.owner_id`;

@Injectable()
export class TaskPluginsRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  /** Every plugin of one collection, or of both (builtins first), in name order. Collections are small: no paging. */
  listAll(collection?: TaskPluginCollection): Promise<TaskPluginRow[]> {
    if (collection) return this.ds.query(`${SELECT_ROWS} WHERE p.collection = $1 ORDER BY p.name COLLATE "C"`, [collection]);
    return this.ds.query(`${SELECT_ROWS} ORDER BY p.collection, p.name COLLATE "C"`);
  }

  async list(collection: TaskPluginCollection | undefined, sortBy: TaskPluginSort, order: 'asc' | 'desc', offset: number, limit: number): Promise<Page<TaskPluginRow>> {
    const where = collection ? 'WHERE p.collection = $1' : '';
    const params: unknown[] = collection ? [collection] : [];
    const [{ total }] = await this.ds.query(`SELECT count(*)::int AS total FROM task_plugin p ${where}`, params);
    const pagination = pageWindow(total, offset, limit);
    if (pagination.endIndex <= pagination.startIndex) return { rows: [], pagination };
    const dir = order === 'desc' ? 'DESC' : 'ASC';
    const rows = await this.ds.query(
      `${SELECT_ROWS} ${where} ORDER BY ${SORT_COLUMNS[sortBy]} ${dir}, p.id ${dir} OFFSET ${pagination.startIndex} LIMIT ${pagination.endIndex - pagination.startIndex}`,
      params,
    );
    return { rows, pagination };
  }

  async findOne(collection: TaskPluginCollection, name: string): Promise<TaskPluginRow | null> {
    const rows: TaskPluginRow[] = await this.ds.query(`${SELECT_ROWS} WHERE p.collection = $1 AND p.name = $2`, [collection, name]);
    return rows[0] ?? null;
  }

  async exists(collection: TaskPluginCollection, name: string): Promise<boolean> {
    const rows = await this.ds.query(`SELECT 1 FROM task_plugin WHERE collection = $1 AND name = $2`, [collection, name]);
    return rows.length > 0;
  }

  async readFile(collection: TaskPluginCollection, name: string, filename: string): Promise<Buffer | null> {
    const rows: Array<{ content: Buffer }> = await this.ds.query(
      `SELECT f.content FROM task_plugin_file f JOIN task_plugin p ON p.id = f.plugin_id
       WHERE p.collection = $1 AND p.name = $2 AND f.filename = $3`,
      [collection, name, filename],
    );
    return rows[0]?.content ?? null;
  }

  /** Files of one plugin (the worker materializes plugin by plugin, so memory stays bounded by one plugin). */
  filesOf(pluginId: number): Promise<PluginFile[]> {
    return this.ds.query(`SELECT filename, content FROM task_plugin_file WHERE plugin_id = $1 ORDER BY filename COLLATE "C"`, [pluginId]);
  }

  /** Ids, collections and names of every plugin, for materializing. */
  listIds(): Promise<Array<{ id: number; collection: TaskPluginCollection; name: string }>> {
    return this.ds.query(`SELECT id, collection, name FROM task_plugin ORDER BY id`);
  }

  /** Inserts a custom plugin with its files in one transaction; null when the name is taken (even by a racing upload). */
  insertCustom(name: string, ownerId: number, files: PluginFile[]): Promise<number | null> {
    return this.ds.transaction(async (em) => {
      const rows: Array<{ id: number }> = await em.query(
        `INSERT INTO task_plugin (collection, name, owner_id) VALUES ('dioptra_custom', $1, $2) ON CONFLICT DO NOTHING RETURNING id`,
        [name, ownerId],
      );
      if (rows.length === 0) return null;
      await this.insertFiles(em, rows[0].id, files);
      return rows[0].id;
    });
  }

  async deleteById(id: number): Promise<void> {
    await this.ds.query(`DELETE FROM task_plugin WHERE id = $1`, [id]);
  }

  /**
   * Makes the builtin rows equal to `packages` in one transaction, under an advisory lock so two API processes
   * starting together do not interleave. Rows of packages still present keep their id and created_at.
   */
  replaceBuiltins(packages: BuiltinPackage[]): Promise<void> {
    return this.ds.transaction(async (em) => {
      await em.query('SELECT pg_advisory_xact_lock($1)', [BUILTINS_LOCK_KEY]);
      const names = packages.map((p) => p.name);
      await em.query(`DELETE FROM task_plugin WHERE collection = 'dioptra_builtins' AND NOT (name = ANY($1::text[]))`, [names]);
      for (const pkg of packages) {
        const [{ id }]: Array<{ id: number }> = await em.query(
          `INSERT INTO task_plugin (collection, name, owner_id) VALUES ('dioptra_builtins', $1, NULL)
           ON CONFLICT (collection, name) DO UPDATE SET owner_id = NULL RETURNING id`,
          [pkg.name],
        );
        await em.query(`DELETE FROM task_plugin_file WHERE plugin_id = $1`, [id]);
        await this.insertFiles(em, id, pkg.files);
      }
    });
  }

  private async insertFiles(em: EntityManager, pluginId: number, files: PluginFile[]): Promise<void> {
    for (const f of files) {
      await em.query(`INSERT INTO task_plugin_file (plugin_id, filename, content) VALUES ($1, $2, $3)`, [pluginId, f.filename, f.content]);
    }
  }
}
