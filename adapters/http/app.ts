/**
 * The Koa app (DESIGN §8). Never listens: adapters/main.ts hands `app.callback()` to
 * createHttpServer, tests to a port-0 server. Middleware order (agreed for the HTTP layer):
 * request id → client address → security headers → [request metrics] → error mapper → access log →
 * [GET /metrics] → web UI files → JSON body → authentication → routes (/api/v1/… and the health endpoints; route
 * modules check roles per route). The bracketed steps exist when `deps.metrics` is given.
 */
import Router from '@koa/router';
import Koa from 'koa';
import { httpMetrics } from '../metrics/http-middleware.ts';
import { metricsEndpoint } from '../metrics/metrics-endpoint.ts';
import { accessLog } from './access-log.ts';
import { authentication } from './auth/authenticate.ts';
import { clientIp } from './auth/client-ip.ts';
import { createAuthServices, type AuthServices } from './auth/services.ts';
import { jsonBody } from './body.ts';
import type { HttpDeps } from './deps.ts';
import { errorBody, errorMapper, HTTP_ERROR_CODES } from './errors.ts';
import { requestId } from './request-id.ts';
import { readsOwnBody, registerRoutes } from './routes/index.ts';
import { securityHeaders } from './security-headers.ts';
import { uiStatic } from './ui-static.ts';

/**
 * What no route answered becomes a JSON error like every other: 404 for an unknown path, 405
 * (with Allow, set by the router) for a known path and another method, 501 for an unknown method.
 */
const unansweredAsErrors = (): Koa.Middleware => async (ctx, next) => {
  await next();
  if (ctx.body !== undefined && ctx.body !== null) return;
  if (ctx.status === 405) {
    ctx.body = errorBody(HTTP_ERROR_CODES.METHOD_NOT_ALLOWED, `${ctx.method} is not allowed on ${ctx.path} (allowed: ${ctx.response.get('Allow')})`);
  } else if (ctx.status === 501) {
    ctx.body = errorBody(HTTP_ERROR_CODES.METHOD_NOT_ALLOWED, `method ${ctx.method} is not implemented`);
  } else if (ctx.status === 404) {
    ctx.body = errorBody(HTTP_ERROR_CODES.ROUTE_NOT_FOUND, `no route for ${ctx.method} ${ctx.path}`);
    ctx.status = 404;
  }
};

export const createHttpApp = (input: HttpDeps): Koa => {
  const deps: HttpDeps & { auth: AuthServices } = { ...input, auth: input.auth ?? createAuthServices(input) };
  const app = new Koa({ proxy: false });
  // errorMapper answers every request error; what is left (a socket failing mid-response) is logged.
  app.on('error', (err: unknown) => deps.logger.warn({ err }, 'http response error'));

  app.use(requestId());
  app.use(clientIp(deps.config.http.trust_proxies));
  app.use(securityHeaders());
  // Request metrics wrap the error mapper (they see the status the client gets); /metrics comes
  // before authentication (its token is not a session JWT) and outside /api/v1 (DESIGN §8).
  if (deps.metrics) app.use(httpMetrics(deps.metrics));
  app.use(errorMapper(deps.logger));
  app.use(accessLog(deps.logger));
  if (deps.metrics) app.use(metricsEndpoint({ metrics: deps.metrics, token: deps.config.metrics.token }));
  // The web UI's files are public (the app signs in through the API); before the body parser and
  // authentication, after the error mapper and access log like every response.
  app.use(uiStatic(deps.config.http.ui_dir));
  // POST /import and POST /batch read their own body (up to 64 MiB) after the role check: routes/import.ts, routes/batch.ts.
  app.use(jsonBody(deps.config.http.body_limit_bytes, { deferred: readsOwnBody }));
  app.use(authentication({ store: deps.store, securityLog: deps.securityLog, tokens: deps.auth.tokens, apiTokens: deps.auth.apiTokens, secrets: deps.secrets }));
  app.use(unansweredAsErrors());

  // The root router gets the health endpoints; the API routes go on an /api/v1 sub-router.
  const root = new Router();
  registerRoutes(root, deps);
  app.use(root.routes());
  app.use(root.allowedMethods());
  return app;
};
