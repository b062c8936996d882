/**
 * `GET /metrics` (DESIGN §8: outside /api/v1; public, or a bearer token when
 * `metrics.token` is configured). A middleware mounted BEFORE the API's authentication, because
 * the metrics token is not a session JWT: the authentication middleware would refuse it (and
 * record a security event for every scrape). The token is compared in constant time (both sides
 * hashed first, so lengths never differ either).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type Koa from 'koa';
import { unauthenticated } from '../http/auth/authenticate.ts';
import type { Metrics } from './registry.ts';

export const METRICS_PATH = '/metrics';

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

const BEARER = /^Bearer +(\S+)$/i;

/** Whether `header` (the Authorization header) carries exactly `token`. */
export const metricsTokenMatches = (token: string, header: string): boolean => {
  const given = BEARER.exec(header)?.[1];
  return given !== undefined && timingSafeEqual(digest(given), digest(token));
};

export const metricsEndpoint = (deps: Readonly<{ metrics: Pick<Metrics, 'render' | 'contentType'>; token: string | null }>): Koa.Middleware =>
  async (ctx, next) => {
    if (ctx.path !== METRICS_PATH || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) {
      await next();
      return;
    }
    // Labelled like a routed request (http-middleware.ts reads it).
    (ctx as { _matchedRoute?: string })._matchedRoute = METRICS_PATH;
    if (deps.token !== null && !metricsTokenMatches(deps.token, ctx.get('Authorization'))) {
      throw unauthenticated('/metrics needs "Authorization: Bearer <metrics.token>"');
    }
    ctx.set('Cache-Control', 'no-store');
    ctx.type = deps.metrics.contentType;
    ctx.body = await deps.metrics.render();
  };
