// Every TypeORM entity, listed once for the app, the CLI data source and the migration drift test.
import { AccessTokenEntity } from '../auth/access-token.entity';
import { LoginSessionEntity } from '../auth/login-session.entity';
import { UserEntity } from '../users/user.entity';

export const ENTITIES = [UserEntity, LoginSessionEntity, AccessTokenEntity];
