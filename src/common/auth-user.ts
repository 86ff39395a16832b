import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';

/** Who is calling: set on the request by the global auth guard. (A class, so decorated signatures can name it.) */
export class AuthUser {
  id: number;
  username: string;
  admin: boolean;
  /** Login session id when authenticated by a login token (logout revokes it). */
  sessionId?: number;
}

export const IS_PUBLIC = 'alidade:public';
export const IS_ADMIN_ONLY = 'alidade:admin-only';

/** The route needs no token. */
export const Public = () => SetMetadata(IS_PUBLIC, true);

/** Only admins may call the route; enforced by the global auth guard. */
export const AdminOnly = () => SetMetadata(IS_ADMIN_ONLY, true);

export const CurrentUser = createParamDecorator((_: unknown, ctx: ExecutionContext): AuthUser => {
  return ctx.switchToHttp().getRequest<{ user: AuthUser }>().user;
});

/** Owner-or-admin: the one ownership rule, used by every service. */
export function mayActOn(user: AuthUser, ownerId: number | null | undefined): boolean {
  return user.admin || (ownerId !== null && ownerId !== undefined && ownerId === user.id);
}
