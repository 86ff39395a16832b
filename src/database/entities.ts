// Every TypeORM entity, listed once for the app, the CLI data source and the migration drift test.
import { AccessTokenEntity } from '../auth/access-token.entity';
import { LoginSessionEntity } from '../auth/login-session.entity';
import { ExperimentEntity } from '../experiments/experiment.entity';
import { QueueEntity } from '../queues/queue.entity';
import { BlobEntity } from '../storage/blob.entity';
import { UserEntity } from '../users/user.entity';

export const ENTITIES = [UserEntity, LoginSessionEntity, AccessTokenEntity, ExperimentEntity, QueueEntity, BlobEntity];
