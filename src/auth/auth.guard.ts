import { ExecutionContext, Injectable, Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard as PassportAuthGuard } from '@nestjs/passport';
import type { Request } from 'express';
import { AuthUser, IS_ADMIN_ONLY, IS_PUBLIC } from '../common/auth-user';
import { DomainError, PermissionDeniedError } from '../common/errors/domain-error';
import { AppConfig } from '../config/config';
import { UsersService } from '../users/users.service';
import { UnauthenticatedError } from './auth.errors';

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
    } else {
      await super.canActivate(context);
    }
    if (this.reflector.getAllAndOverride<boolean>(IS_ADMIN_ONLY, targets) && !req.user?.admin) {
      throw new PermissionDeniedError('admin privileges are required');
    }
    return true;
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
