import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { Page, pageWindow } from '../common/pagination';
import { escapeLike } from '../common/sql';
import { UserEntity } from './user.entity';

export interface UserFilter {
  name?: string;
  admin?: boolean;
  active?: boolean;
}

const SORT_COLUMNS = { id: 'u.id', username: 'lower(u.username)', lastAuthAt: 'u.last_auth_at' } as const;

@Injectable()
export class UsersRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  private repo(em?: EntityManager) {
    return (em ?? this.ds.manager).getRepository(UserEntity);
  }

  findById(id: number, em?: EntityManager): Promise<UserEntity | null> {
    return this.repo(em).findOneBy({ id });
  }

  findByUsername(username: string): Promise<UserEntity | null> {
    return this.repo().createQueryBuilder('u').where('lower(u.username) = lower(:username)', { username }).getOne();
  }

  count(): Promise<number> {
    return this.repo().count();
  }

  /** Inserts; returns null when the username is taken (unique index), so callers need no pre-check race. */
  async insert(values: Partial<UserEntity>): Promise<UserEntity | null> {
    const rows = await this.ds.query(
      `INSERT INTO "user" (username, display_name, password_hash, admin, active) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT DO NOTHING RETURNING id`,
      [values.username, values.displayName ?? null, values.passwordHash, values.admin ?? false, values.active ?? true],
    );
    return rows.length ? this.findById(rows[0].id) : null;
  }

  async update(id: number, values: Partial<UserEntity>, em?: EntityManager): Promise<void> {
    await this.repo(em).update({ id }, { ...values, modifiedAt: new Date() });
  }

  /**
   * Revokes every login session and access token of a user (deactivation, password change). Kept here rather than in
   * auth/ because those are user operations and auth already depends on users.
   */
  async revokeCredentials(userId: number, em?: EntityManager): Promise<void> {
    const m = em ?? this.ds.manager;
    await m.query(`UPDATE login_session SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL`, [userId]);
    await m.query(`UPDATE access_token SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL`, [userId]);
  }

  async touchLastAuth(id: number): Promise<void> {
    await this.repo().update({ id }, { lastAuthAt: new Date() });
  }

  async list(filter: UserFilter, sortBy: keyof typeof SORT_COLUMNS, order: 'asc' | 'desc', offset: number, limit: number): Promise<Page<UserEntity>> {
    const qb = this.repo().createQueryBuilder('u');
    if (filter.name) qb.andWhere(`(u.username ILIKE :name OR u.display_name ILIKE :name)`, { name: `%${escapeLike(filter.name)}%` });
    if (filter.admin !== undefined) qb.andWhere('u.admin = :admin', { admin: filter.admin });
    if (filter.active !== undefined) qb.andWhere('u.active = :active', { active: filter.active });
    const total = await qb.getCount();
    const pagination = pageWindow(total, offset, limit);
    const dir = order === 'desc' ? 'DESC' : 'ASC';
    const rows =
      pagination.endIndex > pagination.startIndex
        ? await qb
            .orderBy(SORT_COLUMNS[sortBy], dir, dir === 'DESC' ? 'NULLS LAST' : 'NULLS FIRST')
            .addOrderBy('u.id', dir)
            .offset(pagination.startIndex)
            .limit(pagination.endIndex - pagination.startIndex)
            .getMany()
        : [];
    return { rows, pagination };
  }
}
