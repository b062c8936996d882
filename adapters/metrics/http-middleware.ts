/**
 * Request metrics by ROUTE PATTERN (never the raw path: `/api/v1/mqtt-users/:username`, not
 * `/api/v1/mqtt-users/alice`), so a label can never carry an id. @koa/router sets
 * `ctx._matchedRoute` to the pattern of the route that answered; anything no route answered is
 * "unmatched". Sits outside the error mapper, so the status is the one the client got.
 * Sign-in attempts are counted here too, from the login routes' responses.
 */
import { performance } from 'node:perf_hooks';
import type Koa from 'koa';
import { loginResult } from './labels.ts';
import type { Metrics } from './registry.ts';

export const UNMATCHED_ROUTE = 'unmatched';

/** The routes whose answers are sign-in attempts (adapters/http/routes/auth.ts). */
export const LOGIN_ROUTES: ReadonlySet<string> = new Set(['/api/v1/auth/login', '/api/v1/auth/login/mfa']);

/** The pattern of the route that answered, or "unmatched" (404/405/501 answered by no route). */
export const routeLabel = (ctx: Koa.Context): string => {
  const route = (ctx as { _matchedRoute?: unknown })._matchedRoute;
  if (typeof route !== 'string' || route === '') return UNMATCHED_ROUTE;
  // A 405/501 is answered by allowedMethods, not by the route: nothing matched method and path.
  if (ctx.status === 405 || ctx.status === 501) return UNMATCHED_ROUTE;
  return route;
};

export const httpMetrics = (metrics: Pick<Metrics, 'observeHttp' | 'recordLoginAttempt'>): Koa.Middleware => async (ctx, next) => {
  const start = performance.now();
  let thrown: unknown = null;
  try {
    await next();
  } catch (err) {
    thrown = err;
    throw err;
  } finally {
    const status = thrown === null ? ctx.status : (thrown as { status?: number }).status ?? 500;
    const route = routeLabel(ctx);
    metrics.observeHttp({ method: ctx.method, route, status, durationS: (performance.now() - start) / 1000 });
    if (ctx.method === 'POST' && LOGIN_ROUTES.has(route)) metrics.recordLoginAttempt(loginResult(status, ctx.body));
  }
};
