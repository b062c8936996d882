/**
 * Health endpoints, outside /api/v1 and public (DESIGN §8) for orchestrators and load balancers:
 * `/healthz` and `/livez` say the process answers; `/readyz` says whether it can serve — the
 * database answers a query and the broker (per `deps.readiness`) is up — and 503 with the
 * reasons when not.
 */
import type Router from '@koa/router';
import type { HttpDeps } from '../deps.ts';
import { mountRoutes, type RouteSpec } from './route-spec.ts';

/** Paths relative to the ROOT router (not /api/v1). */
export const routes: readonly RouteSpec[] = [
  { method: 'GET', path: '/healthz', minRole: 'none' },
  { method: 'GET', path: '/livez', minRole: 'none' },
  { method: 'GET', path: '/readyz', minRole: 'none' },
];

export const readiness = (deps: Pick<HttpDeps, 'db' | 'readiness'>): { ready: boolean; reasons: string[] } => {
  const reasons: string[] = [];
  try {
    deps.db.prepare('SELECT 1').get();
  } catch (err) {
    reasons.push(`database: ${(err as Error).message}`);
  }
  const other = deps.readiness?.();
  if (other && !other.ready) reasons.push(...(other.reasons.length > 0 ? other.reasons : ['not ready']));
  return { ready: reasons.length === 0, reasons };
};

export const registerHealthRoutes = (router: Router, deps: HttpDeps): void => {
  mountRoutes(router, routes, {
    'GET /healthz': (ctx) => {
      ctx.set('Cache-Control', 'no-store');
      ctx.body = { status: 'ok' };
    },
    'GET /livez': (ctx) => {
      ctx.set('Cache-Control', 'no-store');
      ctx.body = { status: 'ok' };
    },
    'GET /readyz': (ctx) => {
      const r = readiness(deps);
      ctx.set('Cache-Control', 'no-store');
      ctx.status = r.ready ? 200 : 503;
      ctx.body = { status: r.ready ? 'ready' : 'not_ready', reasons: r.reasons };
    },
  });
};
