// Every TypeORM entity, listed once for the app, the CLI data source and the migration drift test.
import { AccessTokenEntity } from '../auth/access-token.entity';
import { LoginSessionEntity } from '../auth/login-session.entity';
import { ExperimentEntity } from '../experiments/experiment.entity';
import { JobLogEntity } from '../jobs/job-log.entity';
import { JobEntity } from '../jobs/job.entity';
import { QueueEntity } from '../queues/queue.entity';
import { BlobChunkEntity } from '../storage/blob-chunk.entity';
import { BlobEntity } from '../storage/blob.entity';
import { TaskPluginFileEntity } from '../task-plugins/task-plugin-file.entity';
import { TaskPluginEntity } from '../task-plugins/task-plugin.entity';
import { JobTokenEntity } from '../tracking/job-token.entity';
import {
  ExperimentTagEntity,
  RunArtifactEntity,
  RunLatestMetricEntity,
  RunMetricEntity,
  RunParamEntity,
  RunTagEntity,
} from '../tracking/run-data.entity';
import { RunEntity } from '../tracking/run.entity';
import { UserEntity } from '../users/user.entity';

export const ENTITIES = [
  UserEntity, LoginSessionEntity, AccessTokenEntity, ExperimentEntity, QueueEntity, BlobEntity, BlobChunkEntity, JobEntity, JobLogEntity, TaskPluginEntity,
  TaskPluginFileEntity,
  RunEntity,
  RunParamEntity,
  RunTagEntity,
  RunMetricEntity,
  RunLatestMetricEntity,
  RunArtifactEntity,
  ExperimentTagEntity,
  JobTokenEntity,
];
