/**
 * `GET /clients` (viewer, DESIGN §8): the live MQTT connections, rebuilt from the broker's
 * connection log (reference §5), sorted by client id and paged like every collection, plus the
 * recent disconnects with their reasons (newest first).
 */
import type Router from '@koa/router';
import type { HttpDeps } from '../deps.ts';
import { pageOf, parsePageQuery } from '../pagination.ts';
import { requireObserver } from './broker-status.ts';
import { mountRoutes, type RouteSpec } from './route-spec.ts';

export const routes: readonly RouteSpec[] = [
  { method: 'GET', path: '/clients', minRole: 'viewer' },
];

export const registerClientRoutes = (router: Router, deps: HttpDeps): void => {
  mountRoutes(router, routes, {
    'GET /clients': (ctx) => {
      const page = parsePageQuery(ctx.query);
      const o = requireObserver(deps);
      ctx.body = {
        ...pageOf(o.clients.list(), (c) => c.client_id, page),
        recent_disconnects: o.clients.recent(),
        log_source: o.logSource,
      };
    },
  });
};
