import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { AuthUser } from '../common/auth-user';
import { PermissionDeniedError } from '../common/errors/domain-error';
import { Page } from '../common/pagination';
import { toIso } from '../common/time';
import { AppConfig } from '../config/config';
import { AuthCache } from './auth-cache';
import { hashPassword, verifyPassword } from './password';
import { UserEntity } from './user.entity';
import { ChangePasswordDto, CreateUserDto, PatchUserDto, UserDto, UsersQueryDto } from './users.dto';
import { UserAlreadyExistsError, UserNotFoundError, WrongPasswordError } from './users.errors';
import { UsersRepository } from './users.repository';

export const BOOTSTRAP_ADMIN = 'admin';

@Injectable()
export class UsersService implements OnApplicationBootstrap {
  private readonly logger = new Logger(UsersService.name);

  constructor(
    private readonly users: UsersRepository,
    private readonly config: AppConfig,
    @InjectDataSource() private readonly ds: DataSource,
    private readonly authCache: AuthCache,
  ) {}

  /**
   * The password made for the bootstrap admin at this start (no users, no ADMIN_PASSWORD), for the start banner to
   * show once; main.ts clears it after. Never logged by this service.
   */
  generatedAdminPassword?: string;

  /**
   * First start with no users: create `admin` with ADMIN_PASSWORD, or a random password the banner shows once. With
   * users already there ADMIN_PASSWORD is ignored, and the log says so and how to reset a password instead.
   */
  async onApplicationBootstrap(): Promise<void> {
    if ((await this.users.count()) > 0) {
      if (this.config.adminPassword) {
        this.logger.warn(
          'ADMIN_PASSWORD is ignored: it only sets the first admin\'s password, and users exist already. ' +
            'To set a password: node dist/main.js reset-password <username> (npm run reset-password -- <username>), or POST /api/v1/users/{id}/password as an admin',
        );
      }
      return;
    }
    const password = this.config.adminPassword ?? randomBytes(12).toString('base64url');
    const created = await this.users.insert({ username: BOOTSTRAP_ADMIN, passwordHash: await hashPassword(password), admin: true, active: true });
    if (created && !this.config.adminPassword) this.generatedAdminPassword = password;
    else if (created) this.logger.log(`created user "${BOOTSTRAP_ADMIN}" with the password from ADMIN_PASSWORD`);
  }

  /**
   * The reset-password command (src/cli/): a new password for a user found by name, without the old one, and every
   * login and access token of theirs revoked, as a password change does.
   */
  async resetPassword(username: string, password: string): Promise<UserEntity> {
    const user = await this.users.findByUsername(username);
    if (!user) throw new UserNotFoundError(username);
    const passwordHash = await hashPassword(password);
    await this.ds.transaction(async (em) => {
      await this.users.update(user.id, { passwordHash }, em);
      await this.users.revokeCredentials(user.id, em);
    });
    this.authCache.evictUser(user.id);
    return user;
  }

  async get(id: number): Promise<UserEntity> {
    const user = await this.users.findById(id);
    if (!user) throw new UserNotFoundError(id);
    return user;
  }

  findByUsername(username: string): Promise<UserEntity | null> {
    return this.users.findByUsername(username);
  }

  /** The user AUTH_DISABLED acts as. */
  async bootstrapAdmin(): Promise<UserEntity> {
    const user = await this.users.findByUsername(BOOTSTRAP_ADMIN);
    if (!user) throw new UserNotFoundError(BOOTSTRAP_ADMIN);
    return user;
  }

  list(q: UsersQueryDto): Promise<Page<UserEntity>> {
    return this.users.list({ name: q.name, admin: q.admin, active: q.active }, q.sortBy ?? 'id', q.orderBy ?? 'asc', q.offset ?? 0, q.limit ?? 100);
  }

  async create(dto: CreateUserDto): Promise<UserEntity> {
    const created = await this.users.insert({
      username: dto.username,
      displayName: dto.displayName ?? null,
      passwordHash: await hashPassword(dto.password),
      admin: dto.admin ?? false,
      active: dto.active ?? true,
    });
    if (!created) throw new UserAlreadyExistsError(dto.username);
    return created;
  }

  /** Admins may change anything; a user may change only their own displayName. Deactivation revokes every token. */
  async patch(actor: AuthUser, id: number, dto: PatchUserDto): Promise<UserEntity> {
    const user = await this.get(id);
    const adminFields = dto.admin !== undefined || dto.active !== undefined;
    if (!actor.admin && (adminFields || actor.id !== id)) throw new PermissionDeniedError('only admins may change other users, admin or active');
    await this.ds.transaction(async (em) => {
      await this.users.update(id, { displayName: dto.displayName ?? user.displayName, admin: dto.admin ?? user.admin, active: dto.active ?? user.active }, em);
      if (dto.active === false && user.active) await this.users.revokeCredentials(id, em);
    });
    await this.authCache.evictUser(id);
    return this.get(id);
  }

  /** Self (with the old password) or an admin. Revokes that user's login and access tokens (API.md §2). */
  async changePassword(actor: AuthUser, id: number, dto: ChangePasswordDto): Promise<void> {
    const user = await this.get(id);
    if (actor.id === id) {
      if (!dto.oldPassword || !(await verifyPassword(dto.oldPassword, user.passwordHash))) throw new WrongPasswordError();
    } else if (!actor.admin) {
      throw new PermissionDeniedError('only admins may change another user\'s password');
    }
    const passwordHash = await hashPassword(dto.password);
    await this.ds.transaction(async (em) => {
      await this.users.update(id, { passwordHash }, em);
      await this.users.revokeCredentials(id, em);
    });
    await this.authCache.evictUser(id);
  }

  touchLastAuth(id: number): Promise<void> {
    return this.users.touchLastAuth(id);
  }
}

export function toUserDto(u: UserEntity): UserDto {
  return {
    id: u.id,
    username: u.username,
    displayName: u.displayName,
    admin: u.admin,
    active: u.active,
    createdAt: toIso(u.createdAt)!,
    modifiedAt: toIso(u.modifiedAt)!,
    lastAuthAt: toIso(u.lastAuthAt),
  };
}
