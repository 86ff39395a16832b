import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Page, pageWindow } from '../common/pagination';
import { AccessTokenEntity } from './access-token.entity';
import { LoginSessionEntity } from './login-session.entity';

/** What the auth guard needs to know about a token's user and its session or access-token row, in one round trip. */
export interface AuthRow {
  id: number;
  username: string;
  admin: boolean;
  active: boolean;
  credentialFound: boolean;
  revoked: boolean;
  expired: boolean;
  tokenHash: string | null;
}

/** Login sessions and access tokens. */
@Injectable()
export class CredentialsRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  async createSession(userId: number, expiresAt: Date): Promise<LoginSessionEntity> {
    return this.ds.getRepository(LoginSessionEntity).save({ userId, expiresAt });
  }

  async setSessionHash(id: number, tokenHash: string): Promise<void> {
    await this.ds.query(`UPDATE login_session SET token_hash = $2 WHERE id = $1`, [id, tokenHash]);
  }

  async revokeSession(id: number): Promise<void> {
    await this.ds.query(`UPDATE login_session SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL`, [id]);
  }

  /** The user plus the login session (kind 'session') or access token (kind 'token') a bearer token names. */
  async findForAuth(userId: number, kind: 'session' | 'token', credentialId: number): Promise<AuthRow | null> {
    const table = kind === 'session' ? 'login_session' : 'access_token';
    const rows = await this.ds.query(
      `SELECT u.id, u.username, u.admin, u.active, c.id IS NOT NULL AS "credentialFound",
              c.revoked_at IS NOT NULL AS revoked, c.expires_at <= now() AS expired, c.token_hash AS "tokenHash"
         FROM "user" u LEFT JOIN ${table} c ON c.id = $2 AND c.user_id = u.id
        WHERE u.id = $1`,
      [userId, credentialId],
    );
    return rows[0] ?? null;
  }

  /** Records use at most once a minute, so a busy token does not write on every request. */
  async touchToken(id: number): Promise<void> {
    await this.ds.query(
      `UPDATE access_token SET last_used_at = now() WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`,
      [id],
    );
  }

  async insertToken(userId: number, description: string, expiresAt: Date): Promise<AccessTokenEntity> {
    // The hash is filled in once the token (which embeds the id) is signed.
    return this.ds.getRepository(AccessTokenEntity).save({ userId, description, expiresAt, tokenHash: ''.padEnd(64, '0') });
  }

  async setTokenHash(id: number, tokenHash: string): Promise<void> {
    await this.ds.getRepository(AccessTokenEntity).update({ id }, { tokenHash });
  }

  findToken(id: number): Promise<AccessTokenEntity | null> {
    return this.ds.getRepository(AccessTokenEntity).findOneBy({ id });
  }

  async revokeToken(id: number): Promise<void> {
    await this.ds.query(`UPDATE access_token SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL`, [id]);
  }

  async listTokens(userId: number | undefined, order: 'asc' | 'desc', offset: number, limit: number): Promise<Page<AccessTokenEntity>> {
    const qb = this.ds.getRepository(AccessTokenEntity).createQueryBuilder('t');
    if (userId !== undefined) qb.where('t.user_id = :userId', { userId });
    const total = await qb.getCount();
    const pagination = pageWindow(total, offset, limit);
    const rows =
      pagination.endIndex > pagination.startIndex
        ? await qb
            .orderBy('t.id', order === 'desc' ? 'DESC' : 'ASC')
            .offset(pagination.startIndex)
            .limit(pagination.endIndex - pagination.startIndex)
            .getMany()
        : [];
    return { rows, pagination };
  }
}
