import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { AuthUser, mayActOn } from '../common/auth-user';
import { PermissionDeniedError } from '../common/errors/domain-error';
import { Page } from '../common/pagination';
import { AppConfig } from '../config/config';
import { ArchiveError, ArchiveSource, detectSourceFormat, readArchiveFiles } from '../workflows/archive';
import { TASK_PLUGIN_COLLECTIONS, TaskPluginCollection } from './task-plugin.entity';
import {
  TaskPluginAlreadyExistsError,
  TaskPluginFileNotFoundError,
  TaskPluginNotFoundError,
  TaskPluginUploadInvalidError,
} from './task-plugins.errors';
import { BuiltinPackage, PluginFile, TaskPluginRow, TaskPluginSort, TaskPluginsRepository } from './task-plugins.repository';

export const CUSTOM: TaskPluginCollection = 'dioptra_custom';
export const BUILTINS: TaskPluginCollection = 'dioptra_builtins';

/** Dioptra accepts these upload filename suffixes (case-insensitive); the content decides the real format. */
const ARCHIVE_SUFFIXES = ['.tar', '.tgz', '.bz2', '.gz', '.xz', '.zip'];
const MAX_NAME_BYTES = 255;

/** An upload as a face received it: fields not yet checked. */
export interface TaskPluginUpload {
  name: unknown;
  collection: unknown;
  /** The archive, spooled to a file by the face. */
  file?: { originalname?: string; path: string };
}

/** What an upload stored: Dioptra replies with it even when the archive held no `.py` (then nothing is stored). */
export interface UploadedModules {
  name: string;
  collection: TaskPluginCollection;
  modules: string[];
}

export interface TaskPluginListQuery {
  collection?: TaskPluginCollection;
  sortBy?: TaskPluginSort;
  orderBy?: 'asc' | 'desc';
  offset?: number;
  limit?: number;
}

/**
 * Task plugins, for both API faces and the worker: upload rules (Dioptra's: flattened to basenames, `.py` only),
 * the read-only builtin collection loaded from disk at API start, and materializing both collections for a job.
 */
@Injectable()
export class TaskPluginsService implements OnApplicationBootstrap {
  private readonly logger = new Logger(TaskPluginsService.name);

  constructor(
    private readonly plugins: TaskPluginsRepository,
    private readonly config: AppConfig,
  ) {}

  /** API processes own the builtin rows; a worker only reads them (it may not even have the directories). */
  async onApplicationBootstrap(): Promise<void> {
    if (this.config.role === 'worker') return;
    await this.loadBuiltins(this.config.builtinPluginsDirs);
  }

  /**
   * Replaces the builtin rows with the packages found in `dirs` (each sub-directory a package, its `.py` files the
   * modules), merged in order: a package name seen in an earlier directory wins, with a warning. A directory that
   * cannot be read is skipped with a warning; when none can, the rows stay as they are (a mistyped
   * BUILTIN_PLUGINS_DIR must not wipe the collection). Names that are not Python identifiers are skipped.
   */
  async loadBuiltins(dirs: string | readonly string[]): Promise<void> {
    const list = typeof dirs === 'string' ? [dirs] : dirs;
    const packages = new Map<string, BuiltinPackage & { from: string }>();
    let readable = 0;
    for (const dir of list) {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (e) {
        this.logger.warn(`builtin task plugins: cannot read ${dir}: ${(e as Error).message}; skipped`);
        continue;
      }
      readable++;
      for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
        if (entry.name.startsWith('.') || entry.name === '__pycache__') continue;
        const pkgDir = join(dir, entry.name);
        if (!(await stat(pkgDir)).isDirectory()) continue;
        if (!isPluginName(entry.name)) {
          this.logger.warn(`builtin task plugins: ${pkgDir} skipped: '${entry.name}' is not a Python identifier`);
          continue;
        }
        const files: PluginFile[] = [];
        for (const f of await readdir(pkgDir, { withFileTypes: true })) {
          if (!hasPySuffix(f.name) || !(await stat(join(pkgDir, f.name))).isFile()) continue;
          if (!isModuleFileName(f.name)) {
            this.logger.warn(`builtin task plugins: ${join(pkgDir, f.name)} skipped: not a Python identifier + .py`);
            continue;
          }
          files.push({ filename: f.name, content: await readFile(join(pkgDir, f.name)) });
        }
        if (files.length === 0) continue;
        const earlier = packages.get(entry.name);
        if (earlier) {
          this.logger.warn(`builtin task plugins: package '${entry.name}' of ${dir} ignored: ${earlier.from} has one of that name and comes first`);
          continue;
        }
        packages.set(entry.name, { name: entry.name, files, from: dir });
      }
    }
    if (readable === 0 && list.length > 0) {
      this.logger.warn('builtin task plugins not reloaded: no BUILTIN_PLUGINS_DIR directory could be read; the collection is kept as it was');
      return;
    }
    const merged = [...packages.values()].sort((a, b) => byteOrder(a.name, b.name)).map(({ name, files }) => ({ name, files }));
    await this.plugins.replaceBuiltins(merged);
    this.logger.log(`loaded ${merged.length} builtin task plugin package(s) from ${list.join(':')}`);
  }

  /** One collection (or both, builtins first) in name order: Dioptra's unpaged lists. */
  listAll(collection?: TaskPluginCollection): Promise<TaskPluginRow[]> {
    return this.plugins.listAll(collection);
  }

  list(q: TaskPluginListQuery): Promise<Page<TaskPluginRow>> {
    return this.plugins.list(q.collection, q.sortBy ?? 'id', q.orderBy ?? 'asc', q.offset ?? 0, q.limit ?? 100);
  }

  async get(collection: string, name: string): Promise<TaskPluginRow> {
    const row = isCollection(collection) ? await this.plugins.findOne(collection, name) : null;
    if (!row) throw new TaskPluginNotFoundError(collection, name);
    return row;
  }

  async readFile(collection: string, name: string, filename: string): Promise<Buffer> {
    const content = isCollection(collection) ? await this.plugins.readFile(collection, name, filename) : null;
    if (content) return content;
    await this.get(collection, name); // a missing plugin says so; a missing file of an existing one says that
    throw new TaskPluginFileNotFoundError(collection, name, filename);
  }

  /**
   * The Dioptra upload (T2): the filename must have an archive suffix, and an archive without `.py` files
   * stores nothing and still answers with `modules: []`, as Dioptra does.
   */
  async uploadDioptra(actor: AuthUser, upload: TaskPluginUpload): Promise<UploadedModules> {
    const { name, file } = this.checkUpload(upload);
    const suffixOk = ARCHIVE_SUFFIXES.some((s) => (file.originalname ?? '').toLowerCase().endsWith(s));
    if (!suffixOk) throw new TaskPluginUploadInvalidError(`task_plugin_file must be named *${ARCHIVE_SUFFIXES.join(', *')}`);
    const files = await this.readUpload(name, file.path);
    if (files.length > 0) await this.store(actor, name, files);
    return { name, collection: CUSTOM, modules: files.map((f) => f.filename) };
  }

  /** The v1 upload: the content decides the format, and an archive without `.py` files is refused. */
  async create(actor: AuthUser, upload: TaskPluginUpload): Promise<TaskPluginRow> {
    const { name, file } = this.checkUpload(upload);
    const files = await this.readUpload(name, file.path);
    if (files.length === 0) throw new TaskPluginUploadInvalidError('the archive contains no .py files');
    await this.store(actor, name, files);
    return this.get(CUSTOM, name);
  }

  /**
   * Deletes a custom plugin (owner or admin) and returns the deleted names: `[]` when there was none and
   * `missingOk` (Dioptra's reply), else TaskPluginNotFoundError.
   */
  async deleteCustom(actor: AuthUser, name: string, missingOk: boolean): Promise<string[]> {
    const row = await this.plugins.findOne(CUSTOM, name);
    if (!row) {
      if (missingOk) return [];
      throw new TaskPluginNotFoundError(CUSTOM, name);
    }
    if (!mayActOn(actor, row.ownerId)) throw new PermissionDeniedError(`only the owner or an admin may delete task plugin '${CUSTOM}/${name}'`);
    await this.plugins.deleteById(row.id);
    return [name];
  }

  /**
   * For the worker: writes `<dir>/<collection>/<package>/<module>.py` for every plugin, plus an `__init__.py` at each
   * collection root, so a job run with PYTHONPATH=<dir> can `import dioptra_custom.<package>.<module>`.
   */
  async materialize(dir: string): Promise<void> {
    for (const collection of TASK_PLUGIN_COLLECTIONS) {
      await mkdir(join(dir, collection), { recursive: true });
      await writeFile(join(dir, collection, '__init__.py'), '', { flag: 'a' }); // created when missing, kept otherwise
    }
    for (const plugin of await this.plugins.listIds()) {
      // Names and filenames are checked on the way in; a row from before that rule (or written by hand) is skipped,
      // never allowed to fail the job or to write outside `dir`.
      if (!isCollection(plugin.collection) || !isPluginName(plugin.name)) {
        this.logger.warn(`task plugin ${JSON.stringify(`${plugin.collection}/${plugin.name}`)} (id ${plugin.id}) skipped: its name is not a Python identifier`);
        continue;
      }
      const pkgDir = join(dir, plugin.collection, plugin.name);
      await mkdir(pkgDir, { recursive: true });
      for (const f of await this.plugins.filesOf(plugin.id)) {
        if (isModuleFileName(f.filename)) await writeFile(join(pkgDir, f.filename), f.content, { mode: 0o644 });
        else this.logger.warn(`task plugin ${plugin.collection}/${plugin.name}: file ${JSON.stringify(f.filename)} skipped: not a Python identifier + .py`);
      }
    }
  }

  private checkUpload(upload: TaskPluginUpload): { name: string; file: { originalname?: string; path: string } } {
    if (typeof upload.name !== 'string' || upload.name.length === 0) throw new TaskPluginUploadInvalidError('the task plugin name is missing');
    if (!isPluginName(upload.name)) {
      throw new TaskPluginUploadInvalidError(
        `the task plugin name must be a Python identifier ([A-Za-z_][A-Za-z0-9_]*, at most ${MAX_NAME_BYTES} bytes, not a keyword, not __init__): jobs import it as dioptra_custom.<name>.<module>`,
      );
    }
    if (upload.collection !== CUSTOM) throw new TaskPluginUploadInvalidError(`collection must be '${CUSTOM}' (builtins are read-only)`);
    if (!upload.file) throw new TaskPluginUploadInvalidError('the task plugin archive file is missing');
    return { name: upload.name, file: upload.file };
  }

  /** Checks the name is free, then reads the archive: every `.py` regular file flattened to its basename (later wins). */
  private async readUpload(name: string, bytes: ArchiveSource): Promise<PluginFile[]> {
    if (await this.plugins.exists(CUSTOM, name)) throw new TaskPluginAlreadyExistsError(name);
    if (!(await detectSourceFormat(bytes))) throw new TaskPluginUploadInvalidError('the task plugin file is not a tar, tar.gz or zip archive');
    let entries: Array<{ path: string; data: Buffer }>;
    try {
      entries = await readArchiveFiles(
        bytes,
        // Flattened as Dioptra does (TP-09): `../x.py` and `a/b/x.py` are both stored as `x.py`; nothing touches a disk.
        { maxEntries: this.config.maxArchiveEntries, maxExtractedBytes: this.maxPluginExtractedBytes(), flatten: true },
        (e) => e.type === 'file' && hasPySuffix(basename(e.path)),
      );
    } catch (e) {
      if (e instanceof ArchiveError) throw new TaskPluginUploadInvalidError(e.message);
      throw e;
    }
    const bad = entries.map((e) => basename(e.path)).find((f) => !isModuleFileName(f));
    if (bad !== undefined) {
      throw new TaskPluginUploadInvalidError(
        `module file '${bad}' must be a Python identifier followed by .py (at most ${MAX_NAME_BYTES} bytes, not a keyword): jobs import it as dioptra_custom.<name>.<module>`,
      );
    }
    const byName = new Map<string, Buffer>();
    for (const e of entries) byName.set(basename(e.path), e.data);
    return [...byName.keys()].sort(byteOrder).map((filename) => ({ filename, content: byName.get(filename)! }));
  }

  /**
   * MAX_EXTRACTED_BYTES, but never more than 10× MAX_PLUGIN_BYTES: the modules are held in the API's memory and
   * stored as bytea in one transaction, so a compression bomb within the upload limit must not reach 1 GiB.
   */
  private maxPluginExtractedBytes(): number {
    return Math.min(this.config.maxExtractedBytes, 10 * this.config.maxPluginBytes);
  }

  private async store(actor: AuthUser, name: string, files: PluginFile[]): Promise<void> {
    const id = await this.plugins.insertCustom(name, actor.id, files);
    if (id === null) throw new TaskPluginAlreadyExistsError(name); // a concurrent upload of the same name won
  }
}

function isCollection(value: string): value is TaskPluginCollection {
  return (TASK_PLUGIN_COLLECTIONS as readonly string[]).includes(value);
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Python 3's keywords (keyword.kwlist): none can be imported as a name. Soft keywords (match, case, type, _) can. */
const PYTHON_KEYWORDS: ReadonlySet<string> = new Set(
  'False None True and as assert async await break class continue def del elif else except finally for from global if import in is lambda nonlocal not or pass raise return try while with yield'.split(
    ' ',
  ),
);

function isIdentifier(name: string): boolean {
  return IDENTIFIER.test(name) && !PYTHON_KEYWORDS.has(name) && Buffer.byteLength(name) <= MAX_NAME_BYTES;
}

/** A plugin (package) name: a Python identifier, not a keyword, not `__init__`, at most 255 bytes (API.md §6). */
export function isPluginName(name: string): boolean {
  return isIdentifier(name) && name !== '__init__';
}

/** A module file name: an identifier stem (`__init__` included) and `.py`, at most 255 bytes in all. */
export function isModuleFileName(filename: string): boolean {
  return hasPySuffix(filename) && isIdentifier(filename.slice(0, -3)) && Buffer.byteLength(filename) <= MAX_NAME_BYTES;
}

/** Python's Path.suffix is `.py` (so a bare `.py` has none): the files Dioptra keeps from an upload. */
function hasPySuffix(filename: string): boolean {
  return filename.length > 3 && filename.endsWith('.py');
}

function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
