/**
 * `GET /status` (viewer, DESIGN §8): is the broker up, its version, uptime and `$SYS` stats
 * (reference §5), the observer's connection, the connected-client and topic counts, and the
 * apply summary. Without an observer (tests, or a server started without one) it still answers,
 * with the broker state unknown, so the apply summary stays reachable.
 */
import type Router from '@koa/router';
import type { ObserverApi } from '../../mqtt/observer-api.ts';
import type { HttpDeps } from '../deps.ts';
import { HttpError } from '../errors.ts';
import { statusWithoutApplyLoop } from './apply-status.ts';
import { mountRoutes, type RouteSpec } from './route-spec.ts';

export const routes: readonly RouteSpec[] = [
  { method: 'GET', path: '/status', minRole: 'viewer' },
];

export const OBSERVER_UNAVAILABLE = 'MCM_ERR_OBSERVER_UNAVAILABLE';
export const BROKER_UNAVAILABLE = 'MCM_ERR_BROKER_UNAVAILABLE';

/** The observer, or 503 MCM_ERR_OBSERVER_UNAVAILABLE when this server runs without one. */
export const requireObserver = (deps: HttpDeps): ObserverApi => {
  if (!deps.observer) throw new HttpError(503, OBSERVER_UNAVAILABLE, 'the broker observer is not running on this server');
  return deps.observer;
};

export const registerBrokerStatusRoutes = (router: Router, deps: HttpDeps): void => {
  mountRoutes(router, routes, {
    'GET /status': (ctx) => {
      const apply = deps.apply?.status() ?? statusWithoutApplyLoop(deps);
      const o = deps.observer;
      const stats = o?.observer.stats() ?? null;
      ctx.body = {
        broker: {
          mode: deps.config.mosquitto.mode,
          up: o ? o.observer.connected() : null,
          // $SYS/broker/version as the broker says it; else what MCM detected (supervised: the binary).
          version: stats?.version ?? (apply.broker.version ? `mosquitto version ${apply.broker.version}` : null),
          uptime_s: stats?.uptime_s ?? null,
        },
        // `figures`: $SYS-derived numbers with MCM's own connections and traffic left out (sys-stats.ts).
        stats: stats ? { values: stats.values, figures: stats.figures, updated_at: stats.updated_at } : null,
        observer: o?.observer.status() ?? null,
        // From the connection log, MCM's own connections (observer, probes, service account) left out.
        clients: o ? { connected: o.clients.size(), overflow: o.clients.overflow(), log_source: o.logSource } : null,
        topics: o?.topics.stats() ?? null,
        apply,
      };
    },
  });
};
