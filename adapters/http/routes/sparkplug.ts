/**
 * `GET /sparkplug/nodes` (viewer, DESIGN §8): the Sparkplug B edge nodes the observer has seen,
 * with their session state (online, offline, stale), bdSeq, seq gaps, devices and latest metric
 * values named through the births' aliases (adapters/observer/sparkplug-tracker.ts). 503
 * MCM_ERR_OBSERVER_UNAVAILABLE when this server runs without a tracker.
 */
import type Router from '@koa/router';
import type { HttpDeps } from '../deps.ts';
import { HttpError } from '../errors.ts';
import { OBSERVER_UNAVAILABLE } from './broker-status.ts';
import { mountRoutes, type RouteSpec } from './route-spec.ts';

export const routes: readonly RouteSpec[] = [
  { method: 'GET', path: '/sparkplug/nodes', minRole: 'viewer' },
];

export const registerSparkplugRoutes = (router: Router, deps: HttpDeps): void => {
  mountRoutes(router, routes, {
    'GET /sparkplug/nodes': (ctx) => {
      if (!deps.sparkplug) throw new HttpError(503, OBSERVER_UNAVAILABLE, 'the Sparkplug tracker is not running on this server');
      ctx.body = deps.sparkplug.nodes();
    },
  });
};
