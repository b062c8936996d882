/**
 * Sign-in lockouts (DESIGN §9), admin only: `GET /lockouts` lists the locked (address, username)
 * pairs and addresses and the usernames whose attempts are delayed, with until when;
 * `DELETE /lockouts?username=&address=` lifts them (auth/unlock.ts), as `mcm admins unlock` does.
 */
import type Router from '@koa/router';
import type { Context } from 'koa';
import { actorOf } from '../auth/authenticate.ts';
import { createAuthServices } from '../auth/services.ts';
import { liftLock, unlockFilterOf } from '../auth/unlock.ts';
import type { HttpDeps } from '../deps.ts';
import { queryString } from '../pagination.ts';
import { mountRoutes, type RouteSpec } from './route-spec.ts';

export const routes: readonly RouteSpec[] = [
  { method: 'GET', path: '/lockouts', minRole: 'admin' },
  { method: 'DELETE', path: '/lockouts', minRole: 'admin' },
];

/** `cli:root` for the local CLI, the admin's username otherwise. */
const actorName = (ctx: Context): string => {
  const actor = actorOf(ctx);
  return actor.kind === 'admin' ? actor.id : `${actor.kind}:${actor.id}`;
};

export const registerLockoutRoutes = (router: Router, httpDeps: HttpDeps): void => {
  const auth = httpDeps.auth ?? createAuthServices(httpDeps);
  mountRoutes(router, routes, {
    'GET /lockouts': (ctx) => {
      const { policy } = auth.lockout;
      ctx.body = {
        items: auth.lockout.list(),
        policy: { max_failures: policy.maxFailures, max_failures_per_address: policy.maxFailuresPerAddress, window_s: policy.windowS, max_delay_s: policy.maxDelayS },
      };
    },
    'DELETE /lockouts': (ctx) => {
      const filter = unlockFilterOf({ username: queryString(ctx.query, 'username'), address: queryString(ctx.query, 'address') });
      liftLock({ unlock: (f) => auth.lockout.unlock(f), securityLog: httpDeps.securityLog }, filter, {
        actor: actorName(ctx), ip: String(ctx.state.clientIp ?? ctx.ip), requestId: String(ctx.state.requestId ?? ''),
      });
      ctx.status = 204;
    },
  });
};
