/**
 * Apply status (DESIGN §6, §8): whether the broker runs the desired generation. Without an apply
 * loop (tests, or a server started without a broker) the status is computed from the store:
 * the desired generation, nothing applied, broker mode "none".
 */
import type Router from '@koa/router';
import type { ApplyStatus, HttpDeps } from '../deps.ts';
import { mountRoutes, type RouteSpec } from './route-spec.ts';

export const routes: readonly RouteSpec[] = [
  { method: 'GET', path: '/apply-status', minRole: 'viewer' },
  { method: 'POST', path: '/apply-status/retry', minRole: 'operator' },
];

export const statusWithoutApplyLoop = (deps: Pick<HttpDeps, 'store'>): ApplyStatus => ({
  desired_seq: deps.store.state().generation,
  applied_seq: 0,
  state: 'pending',
  last: null,
  broker: { mode: 'none', up: false, version: null },
});

export const registerApplyStatusRoutes = (router: Router, deps: HttpDeps): void => {
  mountRoutes(router, routes, {
    'GET /apply-status': (ctx) => {
      ctx.body = deps.apply?.status() ?? statusWithoutApplyLoop(deps);
    },
    // Nothing to re-run without an apply loop: the computed status says so (broker mode "none").
    'POST /apply-status/retry': async (ctx) => {
      ctx.body = deps.apply ? await deps.apply.retry() : statusWithoutApplyLoop(deps);
    },
  });
};
