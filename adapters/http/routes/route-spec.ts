/**
 * Every route declares its minimum role (DESIGN §5, §8). A route module exports its `routes`
 * (RouteSpec from auth/require-role.ts: method, path relative to the router it is mounted on in
 * OpenAPI `{param}` syntax, min role) and registers handlers for exactly those with
 * `mountRoutes`, which refuses a spec without a handler and a handler without a spec. The same
 * lists feed the route × role matrix test and the router-vs-OpenAPI test.
 */
import type Router from '@koa/router';
import type { Middleware } from 'koa';
import { requireRole, type RouteSpec } from '../auth/require-role.ts';

export type { HttpMethod, MinRole, RouteSpec } from '../auth/require-role.ts';

export const API_PREFIX = '/api/v1';

export const routeKey = (r: Pick<RouteSpec, 'method' | 'path'>): string => `${r.method} ${r.path}`;

/** `/acls/{id}` → `/acls/:id` (path-to-regexp syntax). */
export const koaPath = (path: string): string => path.replace(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g, ':$1');

/**
 * Registers `handlers` (keyed `"METHOD /path"`) for `specs` on `router`, each behind
 * `requireRole(spec.minRole)`. Specs are registered in the order given; where paths overlap
 * (`/acls/who` before `/acls/{id}`) the first one answers and does not call next.
 */
export const mountRoutes = (
  router: Router,
  specs: readonly RouteSpec[],
  handlers: Readonly<Record<string, Middleware | readonly Middleware[]>>,
): void => {
  const unused = new Set(Object.keys(handlers));
  for (const spec of specs) {
    const key = routeKey(spec);
    const handler = handlers[key];
    if (handler === undefined) throw new Error(`route ${key} has no handler`);
    unused.delete(key);
    const stack: Middleware[] = [requireRole(spec.minRole, spec.tokens), ...(Array.isArray(handler) ? handler : [handler as Middleware])];
    router.register(koaPath(spec.path), [spec.method], stack as Parameters<Router['register']>[2]);
  }
  if (unused.size > 0) throw new Error(`handlers without a route spec: ${[...unused].join(', ')}`);
};
