import { Injectable } from '@nestjs/common';
import { AuthUser, mayActOn } from '../common/auth-user';
import { PermissionDeniedError } from '../common/errors/domain-error';
import { Page } from '../common/pagination';
import { slugify, slugifyName } from '../common/slugify';
import { ExperimentEntity } from './experiment.entity';
import {
  ExperimentActiveError,
  ExperimentAlreadyArchivedError,
  ExperimentAlreadyExistsError,
  ExperimentArchivedError,
  ExperimentNameInvalidError,
  ExperimentNameReservedError,
  ExperimentNotArchivedError,
  ExperimentNotFoundError,
  ExperimentNotTerminalError,
} from './experiments.errors';
import { ExperimentFilter, ExperimentSort, ExperimentsRepository, ExperimentStats } from './experiments.repository';

export type ExperimentRef = { id?: number; name?: string };

export interface ExperimentInput {
  /** Raw name from the client; slugified here. */
  name?: unknown;
  description?: string;
  labels?: string[];
}

export interface ExperimentListQuery extends ExperimentFilter {
  sortBy?: ExperimentSort;
  orderBy?: 'asc' | 'desc';
  offset?: number;
  limit?: number;
}

/** An experiment with what its jobs say about it. */
export interface ExperimentView {
  experiment: ExperimentEntity;
  stats: ExperimentStats;
}

@Injectable()
export class ExperimentsService {
  constructor(private readonly experiments: ExperimentsRepository) {}

  /** A live experiment by id, or by name (slugified first). */
  async get(ref: ExperimentRef): Promise<ExperimentEntity> {
    const found = await this.find(ref);
    if (!found) throw new ExperimentNotFoundError(ref.id ?? ref.name ?? '');
    return found;
  }

  /** The experiment a new job goes to: it must exist and not be archived. */
  async getForSubmission(ref: ExperimentRef): Promise<ExperimentEntity> {
    const experiment = await this.get(ref);
    if (experiment.archived) throw new ExperimentArchivedError(experiment.name);
    return experiment;
  }

  /** Every live experiment in id order (Dioptra's list). */
  listAllLive(): Promise<ExperimentEntity[]> {
    return this.experiments.findAllLive();
  }

  async view(ref: ExperimentRef): Promise<ExperimentView> {
    const experiment = await this.get(ref);
    return { experiment, stats: (await this.experiments.stats([experiment.id])).get(experiment.id)! };
  }

  async list(q: ExperimentListQuery): Promise<Page<ExperimentView>> {
    const page = await this.experiments.list(
      { name: q.name, archived: q.archived, labels: q.labels, users: q.users, states: q.states },
      q.sortBy ?? 'id',
      q.orderBy ?? 'asc',
      q.offset ?? 0,
      q.limit ?? 100,
    );
    const stats = await this.experiments.stats(page.rows.map((e) => e.id));
    return { rows: page.rows.map((experiment) => ({ experiment, stats: stats.get(experiment.id)! })), pagination: page.pagination };
  }

  /** Anyone may create; the caller owns the experiment. */
  async create(actor: AuthUser, input: ExperimentInput): Promise<ExperimentEntity> {
    const name = this.validName(input.name);
    await this.assertNameFree(name);
    const id = await this.experiments.insert({ name, description: input.description ?? '', labels: uniq(input.labels ?? []), ownerId: actor.id });
    if (id === null) {
      // Lost a race for the name: report it as the check above would have.
      await this.assertNameFree(name);
      throw new ExperimentAlreadyExistsError(name);
    }
    return this.get({ id });
  }

  /** Owner or admin: rename (slugified), change description or labels. */
  async update(actor: AuthUser, ref: ExperimentRef, input: ExperimentInput): Promise<ExperimentEntity> {
    const experiment = await this.get(ref);
    this.assertMayAct(actor, experiment);
    const values: { name?: string; description?: string; labels?: string[] } = {};
    if (input.name !== undefined) {
      values.name = this.validName(input.name);
      await this.assertNameFree(values.name, experiment.id);
    }
    if (input.description !== undefined) values.description = input.description;
    if (input.labels !== undefined) values.labels = uniq(input.labels);
    if (!(await this.experiments.update(experiment.id, values))) {
      await this.assertNameFree(values.name!, experiment.id);
      throw new ExperimentAlreadyExistsError(values.name!);
    }
    return this.get({ id: experiment.id });
  }

  /** Owner or admin; refused while a job is active. Unknown → ExperimentNotFoundError. */
  async delete(actor: AuthUser, ref: ExperimentRef): Promise<ExperimentEntity> {
    const deleted = await this.deleteIfExists(actor, ref);
    if (!deleted) throw new ExperimentNotFoundError(ref.id ?? ref.name ?? '');
    return deleted;
  }

  /** As delete, but an unknown (or already deleted) experiment gives null (Dioptra answers 200 with an empty list). */
  async deleteIfExists(actor: AuthUser, ref: ExperimentRef): Promise<ExperimentEntity | null> {
    const experiment = await this.find(ref);
    if (!experiment) return null;
    this.assertMayAct(actor, experiment);
    if ((await this.stateOf(experiment.id)) === 'STATE_ACTIVE') throw new ExperimentActiveError(experiment.id);
    return (await this.experiments.softDelete(experiment.id)) ? experiment : null;
  }

  /** Owner or admin; only a terminal experiment that is not archived yet (Determined's rules and texts). */
  async archive(actor: AuthUser, id: number): Promise<void> {
    const experiment = await this.get({ id });
    this.assertMayAct(actor, experiment);
    if (experiment.archived) throw new ExperimentAlreadyArchivedError();
    if ((await this.stateOf(experiment.id)) === 'STATE_ACTIVE') throw new ExperimentNotTerminalError();
    if (!(await this.experiments.setArchived(experiment.id, true))) await this.archive(actor, id); // changed meanwhile: re-judge
  }

  async unarchive(actor: AuthUser, id: number): Promise<void> {
    const experiment = await this.get({ id });
    this.assertMayAct(actor, experiment);
    if ((await this.stateOf(experiment.id)) === 'STATE_ACTIVE') throw new ExperimentNotTerminalError();
    if (!experiment.archived) throw new ExperimentNotArchivedError();
    if (!(await this.experiments.setArchived(experiment.id, false))) await this.unarchive(actor, id);
  }

  private async find(ref: ExperimentRef): Promise<ExperimentEntity | null> {
    if (ref.id !== undefined) return this.experiments.findLiveById(ref.id);
    if (ref.name !== undefined) return this.experiments.findLiveByName(slugify(ref.name));
    return null;
  }

  private async stateOf(id: number) {
    return (await this.experiments.stats([id])).get(id)!.state;
  }

  private validName(raw: unknown): string {
    const name = slugifyName(raw);
    if (name === null || name.includes('\u0000')) throw new ExperimentNameInvalidError();
    return name;
  }

  /** A name is free unless another row (live → already exists; deleted → reserved) holds it. */
  private async assertNameFree(name: string, selfId?: number): Promise<void> {
    const holder = await this.experiments.findAnyByName(name);
    if (!holder || holder.id === selfId) return;
    throw holder.deletedAt ? new ExperimentNameReservedError(name) : new ExperimentAlreadyExistsError(name);
  }

  private assertMayAct(actor: AuthUser, experiment: ExperimentEntity): void {
    if (!mayActOn(actor, experiment.ownerId)) throw new PermissionDeniedError('only the owner of an experiment or an admin may change it');
  }
}

function uniq(labels: string[]): string[] {
  return [...new Set(labels)];
}
