import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';

/** Who is calling: set on the request by the global auth guard. (A class, so decorated signatures can name it.) */
export class AuthUser {
  id: number;
  username: string;
  admin: boolean;
  /** Login session id when authenticated by a login token (logout revokes it). */
  sessionId?: number;
  /** Set when authenticated by a job token: only the MLflow face, only this job's experiment and runs. */
  job?: { id: string; experimentId: number };
}

export const IS_PUBLIC = 'alidade:public';
export const IS_ADMIN_ONLY = 'alidade:admin-only';
export const IS_MLFLOW_AUTH = 'alidade:mlflow-auth';

/** The route needs no token. */
export const Public = () => SetMetadata(IS_PUBLIC, true);

/** Only admins may call the route; enforced by the global auth guard. */
export const AdminOnly = () => SetMetadata(IS_ADMIN_ONLY, true);

/**
 * An MLflow-face route: besides login and access tokens it accepts job tokens (Bearer) and HTTP Basic (username with a
 * password or an access token), as the mlflow client sends them. A job token on any other route is 403.
 */
export const MlflowAuth = () => SetMetadata(IS_MLFLOW_AUTH, true);

export const CurrentUser = createParamDecorator((_: unknown, ctx: ExecutionContext): AuthUser => {
  return ctx.switchToHttp().getRequest<{ user: AuthUser }>().user;
});

/** Owner-or-admin: the one ownership rule, used by every service. */
export function mayActOn(user: AuthUser, ownerId: number | null | undefined): boolean {
  return user.admin || (ownerId !== null && ownerId !== undefined && ownerId === user.id);
}
