/**
 * API tokens (issue 17): `GET/POST /tokens`, `DELETE /tokens/{name}`. Any signed-in admin manages
 * their own tokens (with a role no higher than theirs); admins see and revoke everyone's. A token
 * itself reaches these routes only with the admin role (they manage identity). The token string
 * is in the 201 response only, never again.
 */
import type Router from '@koa/router';
import type { Context } from 'koa';
import { DomainError, ERROR_CODES } from '../../../core/errors.ts';
import { own } from '../../../core/evolve/records.ts';
import { listTokens } from '../../../projections/api-token-view.ts';
import { createToken, revokeToken, type TokenCaller } from '../../tokens/token-actions.ts';
import { signedInAdmin } from '../auth/authenticate.ts';
import { createAuthServices } from '../auth/services.ts';
import type { HttpDeps } from '../deps.ts';
import { setEtag } from '../etag.ts';
import { pageOf, parsePageQuery } from '../pagination.ts';
import { bodyOf, validateBody } from '../validate.ts';
import { actorOf, param, quote, reply } from './context.ts';
import { API_PREFIX, mountRoutes, type RouteSpec } from './route-spec.ts';

const BASE = '/tokens';

export const routes: readonly RouteSpec[] = [
  { method: 'GET', path: BASE, minRole: 'authenticated', tokens: 'admin' },
  { method: 'POST', path: BASE, minRole: 'authenticated', tokens: 'admin' },
  { method: 'DELETE', path: `${BASE}/{name}`, minRole: 'authenticated', tokens: 'admin' },
];

type CreateBody = { name: string; role: string; expires?: string | null };

export const registerTokenRoutes = (router: Router, httpDeps: HttpDeps): void => {
  const auth = httpDeps.auth ?? createAuthServices(httpDeps);
  const deps = { store: httpDeps.store, clock: httpDeps.clock, mint: () => auth.apiTokens.mint() };
  const nowMs = (): number => Date.parse(deps.clock.now());

  /** Who a new token belongs to: a person's token is theirs; the CLI's is nobody's; a token's, its creator's. */
  const callerOf = (ctx: Context): TokenCaller => {
    const admin = signedInAdmin(ctx);
    const actor = actorOf(ctx);
    if (actor.kind === 'cli') return { actor, owner: null };
    if (admin.token !== undefined) {
      const t = own(deps.store.state().apiTokens ?? {}, admin.token);
      return { actor, owner: t?.owner ?? null };
    }
    return { actor, owner: admin.username };
  };

  mountRoutes(router, routes, {
    [`GET ${BASE}`]: (ctx) => {
      const state = deps.store.state();
      const admin = signedInAdmin(ctx);
      setEtag(ctx, state.seq);
      const items = listTokens(state, nowMs(), (id) => auth.apiTokens.lastUse(id), admin.role === 'admin' ? undefined : admin.username);
      ctx.body = pageOf(items, (t) => t.name, parsePageQuery(ctx.query));
    },

    [`POST ${BASE}`]: [validateBody('ApiTokenCreate'), (ctx) => {
      const body = bodyOf<CreateBody>(ctx);
      const { created, result } = createToken(deps, {
        name: body.name, role: body.role, ...(body.expires === undefined ? {} : { expires: body.expires }),
      }, callerOf(ctx));
      ctx.set('Location', `${API_PREFIX}${BASE}/${encodeURIComponent(created.name)}`);
      // Shown once: no cache may keep it.
      ctx.set('Cache-Control', 'no-store');
      reply(ctx, 201, created, result.seq);
    }],

    [`DELETE ${BASE}/{name}`]: (ctx) => {
      const name = param(ctx, 'name');
      const admin = signedInAdmin(ctx);
      const token = own(deps.store.state().apiTokens ?? {}, name);
      // Someone else's token is "not found" to a non-admin: its name is not theirs to learn.
      if (!token || (admin.role !== 'admin' && token.owner !== admin.username)) {
        throw new DomainError(ERROR_CODES.TOKEN_NOT_FOUND, `you have no API token named ${quote(name)}`, [{ name: name.slice(0, 100) }]);
      }
      const result = revokeToken(deps, name, actorOf(ctx));
      reply(ctx, 204, null, result.seq);
    },
  });
};
