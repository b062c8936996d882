/**
 * Admin roles are ordered viewer < auditor < operator < admin (DESIGN §5); every route declares
 * its minimum (DESIGN §8). No signed-in admin → 401; below the minimum → 403.
 */
import type Koa from 'koa';
import { ADMIN_ROLES, type AdminRole } from '../../../core/state.ts';
import { HTTP_ERROR_CODES, HttpError } from '../errors.ts';
import { unauthenticated } from './authenticate.ts';

/** 'none': public; 'authenticated': any signed-in admin (same as 'viewer', the lowest role). */
export type MinRole = AdminRole | 'authenticated' | 'none';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * A route and who may call it, for the role-matrix and OpenAPI tests. `path` is relative to
 * /api/v1 and uses OpenAPI templating (`/admin-users/{username}`).
 */
export type RouteSpec = Readonly<{
  method: HttpMethod;
  path: string;
  minRole: MinRole;
  /**
   * API tokens (issue 17) on routes that manage identity: `admin` — only an admin-role token;
   * `never` — no token at all (a person's own password and MFA: a token is not a person).
   * Absent: a token is held to `minRole` like a session.
   */
  tokens?: 'admin' | 'never';
}>;

export const roleRank = (role: AdminRole): number => ADMIN_ROLES.indexOf(role);

export const roleAtLeast = (role: AdminRole, min: AdminRole): boolean => roleRank(role) >= roleRank(min);

export const requireRole = (min: MinRole, tokens?: RouteSpec['tokens']): Koa.Middleware => async (ctx, next) => {
  if (min !== 'none') {
    const admin = ctx.state.admin as { username: string; role: AdminRole; token?: string } | undefined;
    if (!admin) throw unauthenticated('sign in first: this route needs a bearer token');
    if (min !== 'authenticated' && !roleAtLeast(admin.role, min)) {
      throw new HttpError(403, HTTP_ERROR_CODES.FORBIDDEN, `this route needs the ${min} role or higher (you are ${admin.role})`, [
        { required_role: min, role: admin.role },
      ]);
    }
    if (admin.token !== undefined && tokens !== undefined && (tokens === 'never' || admin.role !== 'admin')) {
      const message = tokens === 'never'
        ? 'API tokens cannot use this route: it changes the signed-in person\'s own password or MFA; sign in with a password'
        : `this route manages identity (tokens, admin users): API tokens need the admin role here (token "${admin.token}" is ${admin.role})`;
      throw new HttpError(403, HTTP_ERROR_CODES.TOKEN_NOT_ALLOWED, message, [{ token: admin.token, role: admin.role, tokens }]);
    }
  }
  await next();
};
