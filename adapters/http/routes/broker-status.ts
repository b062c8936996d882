/**
 * `GET /status` (viewer, DESIGN §8): is the broker up, its version, uptime and `$SYS` stats
 * (reference §5), the observer's connection, the connected-client and topic counts, and the
 * apply summary, and on request the rates history of the last 15 minutes. Without an observer (tests, or a server started without one) it still answers,
 * with the broker state unknown, so the apply summary stays reachable.
 */
import type Router from '@koa/router';
import type { ObserverApi } from '../../mqtt/observer-api.ts';
import type { HttpDeps } from '../deps.ts';
import { HttpError } from '../errors.ts';
import { queryInt } from '../pagination.ts';
import { HISTORY_MS } from '../../mqtt/sys-stats.ts';
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
      // ?history_s=N: the rates history of the last N seconds (at most 900) for the dashboard's
      // charts on load (issue 16); without it the answer stays small for the 5 s refresh.
      const historyS = queryInt(ctx.query, 'history_s', 1, HISTORY_MS / 1000);
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
        stats: stats ? {
          values: stats.values, figures: stats.figures, updated_at: stats.updated_at,
          ...(historyS === undefined || !o ? {} : { history: o.observer.statsHistory(historyS * 1000) }),
        } : null,
        observer: o?.observer.status() ?? null,
        // From the connection log, MCM's own connections (observer, probes, service account) left out.
        clients: o ? { connected: o.clients.size(), overflow: o.clients.overflow(), log_source: o.logSource } : null,
        topics: o?.topics.stats() ?? null,
        apply,
      };
    },
  });
};
