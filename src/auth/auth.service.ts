import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { createHash } from 'node:crypto';
import { AuthUser, mayActOn } from '../common/auth-user';
import { parseDuration } from '../common/duration';
import { PermissionDeniedError, ValidationFailedError } from '../common/errors/domain-error';
import { Page } from '../common/pagination';
import { isRowId } from '../common/sql';
import { verifyPassword } from '../users/password';
import { AuthCache } from '../users/auth-cache';
import { UserEntity } from '../users/user.entity';
import { UsersService } from '../users/users.service';
import { AccessTokenEntity } from './access-token.entity';
import { CreateTokenDto, LoginDto } from './auth.dto';
import { InvalidCredentialsError, TokenNotFoundError, UnauthenticatedError, UserNotActiveError } from './auth.errors';
import { AuthRow, CredentialsRepository } from './credentials.repository';

export const LOGIN_TTL_SECONDS = 7 * 86400;
const DEFAULT_TOKEN_SECONDS = 30 * 86400;
const MAX_TOKEN_SECONDS = 365 * 86400;

/** Claims of our bearer tokens: `sid` for a login session, `tid` for an access token. */
export interface TokenClaims {
  sub: number;
  sid?: number;
  tid?: number;
  /** Expiry (seconds since the epoch), set by the signer; verified with the signature. */
  exp?: number;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

@Injectable()
export class AuthService {
  constructor(
    private readonly users: UsersService,
    private readonly credentials: CredentialsRepository,
    private readonly jwt: JwtService,
    private readonly cache: AuthCache,
  ) {}

  /** Same 401 text for an unknown user and a wrong password; 403 for a correct password of an inactive user. */
  async login(dto: LoginDto): Promise<{ token: string; user: UserEntity }> {
    const user = await this.users.findByUsername(dto.username);
    const ok = await verifyPassword(dto.password, user?.passwordHash);
    if (!user || !ok) throw new InvalidCredentialsError();
    if (!user.active) throw new UserNotActiveError();
    const session = await this.credentials.createSession(user.id, new Date(Date.now() + LOGIN_TTL_SECONDS * 1000));
    const token = await this.jwt.signAsync({ sub: user.id, sid: session.id } satisfies TokenClaims, { expiresIn: LOGIN_TTL_SECONDS });
    await this.credentials.setSessionHash(session.id, sha256(token));
    await this.users.touchLastAuth(user.id);
    return { token, user: await this.users.get(user.id) };
  }

  async logout(user: AuthUser): Promise<void> {
    if (user.sessionId === undefined) return;
    await this.credentials.revokeSession(user.sessionId);
    await this.cache.evict(`session:${user.sessionId}`);
  }

  /**
   * The caller of a bearer token that passed every check below less than AUTH_CACHE_MS ago (and has not expired or been
   * evicted since): the signature, expiry and row checks are not repeated for it. Undefined: check it in full.
   */
  cachedBearer(rawToken: string): AuthUser | undefined {
    const hit = this.cache.get<{ user: AuthUser; expiresAt: number }>(`bearer:${rawToken}`);
    if (!hit || hit.expiresAt <= Date.now()) return undefined;
    return hit.user;
  }

  /**
   * Turns verified claims into the caller. An inactive user is refused first (403), so the caller learns why even when
   * deactivation has also revoked the token; then a missing, revoked or expired session/token is 401.
   */
  async authenticate(claims: TokenClaims, rawToken: string): Promise<AuthUser> {
    const kind = claims.tid !== undefined ? 'token' : 'session';
    const credentialId = claims.tid ?? claims.sid;
    if (!isRowId(claims.sub) || credentialId === undefined || !isRowId(credentialId)) throw new UnauthenticatedError('invalid credentials');
    const key = `${kind}:${credentialId}`;
    let row = this.cache.get<AuthRow>(key);
    if (!row || row.id !== claims.sub) {
      row = (await this.credentials.findForAuth(claims.sub, kind, credentialId)) ?? undefined;
      if (!row) throw new UnauthenticatedError('invalid credentials');
      this.cache.set(key, row.id, row);
      if (kind === 'token' && !row.revoked && row.active) void this.credentials.touchToken(credentialId).catch(() => undefined);
    }
    if (!row.active) throw new UserNotActiveError();
    if (!row.credentialFound || row.expired) throw new UnauthenticatedError('invalid credentials');
    // Every token is checked against its stored row by hash: a JWT signed with a leaked secret is not enough.
    if (row.tokenHash === null || row.tokenHash !== sha256(rawToken)) throw new UnauthenticatedError('invalid credentials');
    if (row.revoked) throw new UnauthenticatedError(kind === 'token' ? 'user access token revoked' : 'invalid credentials');
    const user: AuthUser = kind === 'token' ? { id: row.id, username: row.username, admin: row.admin } : { id: row.id, username: row.username, admin: row.admin, sessionId: credentialId };
    // The whole check, reused for the same token string: evicted with the credential's row (logout, revocation) or
    // the user's (deactivation, password change).
    if (typeof claims.exp === 'number') this.cache.set(`bearer:${rawToken}`, row.id, { user, expiresAt: claims.exp * 1000 }, key);
    return user;
  }

  /**
   * HTTP Basic on the MLflow face (MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD): the password is the user's
   * password or one of their access tokens. A successful check is reused for a second (the client sends it on every
   * request, and scrypt is deliberately slow); the cache is evicted with the user's on deactivation or password change.
   */
  async authenticateBasic(encoded: string): Promise<AuthUser> {
    const decoded = Buffer.from(encoded, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw new UnauthenticatedError('invalid credentials');
    const username = decoded.slice(0, colon);
    const secret = decoded.slice(colon + 1);
    const key = `basic:${sha256(encoded)}`;
    const cached = this.cache.get<AuthUser>(key);
    if (cached) return cached;
    let user: AuthUser;
    if (/^[\w-]+\.[\w-]+\.[\w-]+$/.test(secret)) {
      const claims = await this.jwt.verifyAsync<TokenClaims>(secret, { algorithms: ['HS256'] }).catch(() => null);
      if (!claims || claims.tid === undefined) throw new UnauthenticatedError('invalid credentials');
      user = await this.authenticate(claims, secret);
      if (user.username.toLowerCase() !== username.toLowerCase()) throw new UnauthenticatedError('invalid credentials');
    } else {
      const row = await this.users.findByUsername(username);
      const ok = await verifyPassword(secret, row?.passwordHash);
      if (!row || !ok) throw new InvalidCredentialsError();
      if (!row.active) throw new UserNotActiveError();
      user = { id: row.id, username: row.username, admin: row.admin };
    }
    this.cache.set(key, user.id, user);
    return user;
  }

  async createToken(actor: AuthUser, dto: CreateTokenDto): Promise<{ token: string; tokenId: number }> {
    const userId = dto.userId ?? actor.id;
    if (userId !== actor.id && !actor.admin) throw new PermissionDeniedError('only admins may create tokens for other users');
    await this.users.get(userId);
    const seconds = dto.lifespan === undefined ? DEFAULT_TOKEN_SECONDS : parseDuration(dto.lifespan);
    if (seconds === null || seconds <= 0 || seconds > MAX_TOKEN_SECONDS) {
      throw new ValidationFailedError({ lifespan: ['lifespan must be between 1s and 365d'] }, 'lifespan must be between 1s and 365d');
    }
    const row = await this.credentials.insertToken(userId, dto.description ?? '', new Date(Date.now() + seconds * 1000));
    const token = await this.jwt.signAsync({ sub: userId, tid: row.id } satisfies TokenClaims, { expiresIn: seconds });
    await this.credentials.setTokenHash(row.id, sha256(token));
    return { token, tokenId: row.id };
  }

  listTokens(actor: AuthUser, order: 'asc' | 'desc', offset: number, limit: number): Promise<Page<AccessTokenEntity>> {
    return this.credentials.listTokens(actor.admin ? undefined : actor.id, order, offset, limit);
  }

  async revokeToken(actor: AuthUser, id: number): Promise<void> {
    const token = await this.credentials.findToken(id);
    if (!token || !mayActOn(actor, token.userId)) throw new TokenNotFoundError(id);
    await this.credentials.revokeToken(id);
    await this.cache.evict(`token:${id}`);
  }
}
