import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, IsNull } from 'typeorm';
import { ExperimentEntity } from './experiment.entity';

@Injectable()
export class ExperimentsRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  private repo(em?: EntityManager) {
    return (em ?? this.ds.manager).getRepository(ExperimentEntity);
  }

  /** A live (not deleted) experiment by id. */
  findLiveById(id: number, em?: EntityManager): Promise<ExperimentEntity | null> {
    return this.repo(em).findOneBy({ id, deletedAt: IsNull() });
  }

  /** A live experiment by its (already slugified) name. */
  findLiveByName(name: string, em?: EntityManager): Promise<ExperimentEntity | null> {
    return this.repo(em).findOneBy({ name, deletedAt: IsNull() });
  }
}
