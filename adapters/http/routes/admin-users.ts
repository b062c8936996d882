/**
 * Admin users, the people who use MCM (DESIGN §5, §8): read by auditors, changed by admins.
 * Passwords are checked against the admin policy and bcrypt-hashed BEFORE handleCommand (STYLE
 * principle 3); responses never carry hashes, MFA secrets or recovery codes. The core refuses to
 * disable, demote or delete the last active admin (MCM_ERR_LAST_ADMIN → 409).
 */
import type Router from '@koa/router';
import { DomainError, ERROR_CODES } from '../../../core/errors.ts';
import { handleCommand } from '../../../core/handle-command.ts';
import type { AdminRole, AdminUser, BrokerConfig } from '../../../core/state.ts';
import { adminUserOf } from '../auth/login.ts';
import { assertAdminPassword } from '../auth/password-policy.ts';
import type { HttpDeps } from '../deps.ts';
import { setEtag } from '../etag.ts';
import { pageOf, parsePageQuery } from '../pagination.ts';
import { bodyOf, validateBody } from '../validate.ts';
import { commandContext, param, quote, reply } from './context.ts';
import { API_PREFIX, mountRoutes, type RouteSpec } from './route-spec.ts';

const BASE = '/admin-users';

export const routes: readonly RouteSpec[] = [
  { method: 'GET', path: BASE, minRole: 'auditor', tokens: 'admin' },
  { method: 'POST', path: BASE, minRole: 'admin', tokens: 'admin' },
  { method: 'GET', path: `${BASE}/{username}`, minRole: 'auditor', tokens: 'admin' },
  { method: 'PUT', path: `${BASE}/{username}`, minRole: 'admin', tokens: 'admin' },
  { method: 'DELETE', path: `${BASE}/{username}`, minRole: 'admin', tokens: 'admin' },
];

export type AdminUserView = {
  username: string;
  role: AdminRole;
  disabled: boolean;
  mfa_enabled: boolean;
  created_at: string;
  updated_at: string;
};

/** Whitelisted fields only: a new field on AdminUser never leaks by accident. */
export const adminUserView = (u: AdminUser): AdminUserView => ({
  username: u.username,
  role: u.role,
  disabled: u.disabled,
  mfa_enabled: u.mfa.enabled,
  created_at: u.createdAt,
  updated_at: u.updatedAt,
});

type CreateBody = { username: string; password: string; role: AdminRole };
type UpdateBody = { role?: AdminRole; disabled?: boolean; password?: string };

const requireUser = (state: BrokerConfig, username: string): AdminUser => {
  const user = adminUserOf(state, username);
  if (!user) {
    throw new DomainError(ERROR_CODES.ADMIN_USER_NOT_FOUND, `admin user ${quote(username)} does not exist`, [{ username: username.slice(0, 300) }]);
  }
  return user;
};

const byUsername = (a: AdminUser, b: AdminUser): number => (a.username < b.username ? -1 : a.username > b.username ? 1 : 0);

export const registerAdminUserRoutes = (router: Router, deps: HttpDeps): void => {
  mountRoutes(router, routes, {
    [`GET ${BASE}`]: (ctx) => {
      const state = deps.store.state();
      const users = Object.values(state.adminUsers).sort(byUsername).map(adminUserView);
      setEtag(ctx, state.seq);
      ctx.body = pageOf(users, (u) => u.username, parsePageQuery(ctx.query));
    },

    [`GET ${BASE}/{username}`]: (ctx) => {
      const state = deps.store.state();
      setEtag(ctx, state.seq);
      ctx.body = adminUserView(requireUser(state, param(ctx, 'username')));
    },

    [`POST ${BASE}`]: [validateBody('AdminUserCreate'), async (ctx) => {
      const cmdCtx = commandContext(ctx);
      const { username, password, role } = bodyOf<CreateBody>(ctx);
      assertAdminPassword(password);
      const passwordHash = await deps.adminHasher.hash(password);
      const result = handleCommand(deps, { type: 'CreateAdminUser', data: { username, passwordHash, role } }, cmdCtx);
      ctx.set('Location', `${API_PREFIX}${BASE}/${encodeURIComponent(username)}`);
      reply(ctx, 201, adminUserView(requireUser(deps.store.state(), username)), result.seq);
    }],

    [`PUT ${BASE}/{username}`]: [validateBody('AdminUserUpdate'), async (ctx) => {
      const cmdCtx = commandContext(ctx);
      const username = param(ctx, 'username');
      const body = bodyOf<UpdateBody>(ctx);
      requireUser(deps.store.state(), username); // 404 before spending a bcrypt hash
      if (body.password !== undefined) assertAdminPassword(body.password);
      const passwordHash = body.password === undefined ? undefined : await deps.adminHasher.hash(body.password);
      const result = handleCommand(deps, {
        type: 'UpdateAdminUser',
        data: {
          username,
          ...(body.role === undefined ? {} : { role: body.role }),
          ...(body.disabled === undefined ? {} : { disabled: body.disabled }),
          ...(passwordHash === undefined ? {} : { passwordHash }),
        },
      }, cmdCtx);
      reply(ctx, 200, adminUserView(requireUser(deps.store.state(), username)), result.seq);
    }],

    [`DELETE ${BASE}/{username}`]: (ctx) => {
      const cmdCtx = commandContext(ctx);
      const result = handleCommand(deps, { type: 'DeleteAdminUser', data: { username: param(ctx, 'username') } }, cmdCtx);
      reply(ctx, 204, null, result.seq);
    },
  });
};
