import { Injectable } from '@nestjs/common';
import { slugify } from '../common/slugify';
import { ExperimentEntity } from './experiment.entity';
import { ExperimentArchivedError, ExperimentNotFoundError } from './experiments.errors';
import { ExperimentsRepository } from './experiments.repository';

@Injectable()
export class ExperimentsService {
  constructor(private readonly experiments: ExperimentsRepository) {}

  /** A live experiment by id, or by name (slugified first). */
  async get(ref: { id?: number; name?: string }): Promise<ExperimentEntity> {
    const found =
      ref.id !== undefined ? await this.experiments.findLiveById(ref.id) : ref.name !== undefined ? await this.experiments.findLiveByName(slugify(ref.name)) : null;
    if (!found) throw new ExperimentNotFoundError(ref.id ?? ref.name ?? '');
    return found;
  }

  /** The experiment a new job goes to: it must exist and not be archived. */
  async getForSubmission(ref: { id?: number; name?: string }): Promise<ExperimentEntity> {
    const experiment = await this.get(ref);
    if (experiment.archived) throw new ExperimentArchivedError(experiment.name);
    return experiment;
  }
}
