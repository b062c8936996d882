/**
 * Roles (DESIGN §5): named sets of ACL rules granted to users. A role's rules are ACL rules with
 * principal `role:<name>` — one store, also listed by GET /acls; `rules` in POST/PUT is a
 * shorthand that adds (or replaces) them in the same append.
 */
import type Router from '@koa/router';
import type { CommandOf, RuleSpec } from '../../../core/commands.ts';
import { DomainError, ERROR_CODES } from '../../../core/errors.ts';
import { handleCommand } from '../../../core/handle-command.ts';
import type { BrokerConfig } from '../../../core/state.ts';
import { createViewCache, roleDetail, type RoleDetailView } from '../../../projections/views.ts';
import type { HttpDeps } from '../deps.ts';
import { setEtag } from '../etag.ts';
import { pageOf, parsePageQuery } from '../pagination.ts';
import { bodyOf, validateBody } from '../validate.ts';
import { commandContext, param, quote, reply } from './context.ts';
import { API_PREFIX, mountRoutes, type RouteSpec } from './route-spec.ts';

const BASE = '/roles';

export const routes: readonly RouteSpec[] = [
  { method: 'GET', path: BASE, minRole: 'auditor' },
  { method: 'POST', path: BASE, minRole: 'operator' },
  { method: 'GET', path: `${BASE}/{name}`, minRole: 'auditor' },
  { method: 'PUT', path: `${BASE}/{name}`, minRole: 'operator' },
  { method: 'DELETE', path: `${BASE}/{name}`, minRole: 'operator' },
];

export type RoleCreateBody = { name: string; description?: string; rules?: RuleSpec[] };
export type RoleUpdateBody = { description?: string; rules?: RuleSpec[] };

/** The commands of these routes, shared with POST /batch. */
export const defineRoleCommand = (body: RoleCreateBody): CommandOf<'DefineRole'> => ({
  type: 'DefineRole',
  data: {
    name: body.name,
    ...(body.description === undefined ? {} : { description: body.description }),
    ...(body.rules === undefined ? {} : { rules: body.rules }),
  },
});

export const updateRoleCommand = (name: string, body: RoleUpdateBody): CommandOf<'UpdateRole'> => ({
  type: 'UpdateRole',
  data: {
    name,
    ...(body.description === undefined ? {} : { description: body.description }),
    ...(body.rules === undefined ? {} : { rules: body.rules }),
  },
});

const detailIn = (state: BrokerConfig, name: string): RoleDetailView => {
  const detail = roleDetail(state, name);
  if (!detail) throw new DomainError(ERROR_CODES.ROLE_NOT_FOUND, `role ${quote(name)} does not exist`, [{ role: name.slice(0, 300) }]);
  return detail;
};

export const registerRoleRoutes = (router: Router, deps: HttpDeps): void => {
  const views = createViewCache();

  mountRoutes(router, routes, {
    [`GET ${BASE}`]: (ctx) => {
      const state = deps.store.state();
      const page = pageOf(views.roles(state), (r) => r.name, parsePageQuery(ctx.query));
      setEtag(ctx, state.seq);
      ctx.body = page;
    },

    [`POST ${BASE}`]: [validateBody('RoleCreate'), (ctx) => {
      const body = bodyOf<RoleCreateBody>(ctx);
      const result = handleCommand(deps, defineRoleCommand(body), commandContext(ctx));
      ctx.set('Location', `${API_PREFIX}${BASE}/${encodeURIComponent(body.name)}`);
      reply(ctx, 201, detailIn(deps.store.state(), body.name), result.seq);
    }],

    [`GET ${BASE}/{name}`]: (ctx) => {
      const state = deps.store.state();
      reply(ctx, 200, detailIn(state, param(ctx, 'name')), state.seq);
    },

    [`PUT ${BASE}/{name}`]: [validateBody('RoleUpdate'), (ctx) => {
      const name = param(ctx, 'name');
      const body = bodyOf<RoleUpdateBody>(ctx);
      const result = handleCommand(deps, updateRoleCommand(name, body), commandContext(ctx));
      reply(ctx, 200, detailIn(deps.store.state(), name), result.seq);
    }],

    [`DELETE ${BASE}/{name}`]: (ctx) => {
      const result = handleCommand(deps, { type: 'DeleteRole', data: { name: param(ctx, 'name') } }, commandContext(ctx));
      reply(ctx, 204, null, result.seq);
    },
  });
};
