import { ExecutionContext, Injectable, Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard as PassportAuthGuard } from '@nestjs/passport';
import type { Request } from 'express';
import { AuthUser, IS_ADMIN_ONLY, IS_MLFLOW_AUTH, IS_PUBLIC } from '../common/auth-user';
import { DomainError, PermissionDeniedError } from '../common/errors/domain-error';
import { AppConfig } from '../config/config';
import { JobTokensService } from '../tracking/job-tokens.service';
import { UsersService } from '../users/users.service';
import { UnauthenticatedError } from './auth.errors';
import { AuthService } from './auth.service';

/**
 * Global guard: every route needs a bearer token unless marked @Public(); @AdminOnly() routes need an admin.
 * AUTH_DISABLED makes every request act as the bootstrap admin.
 */
@Injectable()
export class AuthGuard extends PassportAuthGuard('jwt') {
  private readonly logger = new Logger('AuthGuard');

  constructor(
    private readonly reflector: Reflector,
    private readonly config: AppConfig,
    private readonly users: UsersService,
    private readonly auth: AuthService,
    private readonly jobTokens: JobTokensService,
  ) {
    super();
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;
    const req = context.switchToHttp().getRequest<Request & { user?: AuthUser }>();
    if (this.config.authDisabled) {
      const admin = await this.users.bootstrapAdmin();
      req.user = { id: admin.id, username: admin.username, admin: true };
    } else if (!(await this.otherCredentials(req, this.reflector.getAllAndOverride<boolean>(IS_MLFLOW_AUTH, targets) ?? false))) {
      await super.canActivate(context);
    }
    if (this.reflector.getAllAndOverride<boolean>(IS_ADMIN_ONLY, targets) && !req.user?.admin) {
      throw new PermissionDeniedError('admin privileges are required');
    }
    return true;
  }

  /**
   * Credentials other than our JWTs: a job token (Bearer `alj_…`) is valid on @MlflowAuth() routes only (403
   * elsewhere, after checking it: unknown or revoked is 401); HTTP Basic only on @MlflowAuth() routes, as the mlflow
   * client sends MLFLOW_TRACKING_USERNAME/PASSWORD. False when the request carries neither (the JWT strategy runs).
   */
  private async otherCredentials(req: Request & { user?: AuthUser }, mlflowRoute: boolean): Promise<boolean> {
    const header = req.headers.authorization ?? '';
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
    if (bearer !== undefined && !this.jobTokens.isJobToken(bearer)) {
      // A login or access token checked in full a moment ago (AuthService.cachedBearer): no JWT parse, no row check.
      const cached = this.auth.cachedBearer(bearer);
      if (cached) {
        req.user = cached;
        return true;
      }
      return false;
    }
    if (bearer !== undefined && this.jobTokens.isJobToken(bearer)) {
      const user = await this.jobTokens.authenticate(bearer);
      if (!mlflowRoute) throw new PermissionDeniedError('job tokens are valid only on the MLflow tracking API (/api/2.0/mlflow)');
      req.user = user;
      return true;
    }
    if (mlflowRoute && /^Basic\s/i.test(header)) {
      req.user = await this.auth.authenticateBasic(header.replace(/^Basic\s+/i, '').trim());
      return true;
    }
    return false;
  }

  override handleRequest<T>(err: unknown, user: T, _info: unknown, context: ExecutionContext): T {
    if (err instanceof DomainError) throw err;
    if (err) {
      this.logger.warn(`token check failed: ${String(err)}`);
      throw err;
    }
    if (!user) {
      const header = context.switchToHttp().getRequest<Request>().headers.authorization;
      throw new UnauthenticatedError(header ? 'invalid credentials' : 'token missing');
    }
    return user;
  }
}
