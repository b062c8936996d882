/**
 * Every HTTP route of MCM in one place (DESIGN §8). `allRoutes()` lists them with their minimum
 * role for the route × role matrix test and the router-vs-OpenAPI test; `registerRoutes` mounts
 * them.
 *
 * Mounting: API routes live under /api/v1, the health endpoints outside it.
 *   - `registerRoutes(apiRouter, deps)` with a router prefixed `/api/v1` mounts the API routes;
 *     the app then mounts `registerRootRoutes(rootRouter, deps)` on its root router.
 *   - `registerRoutes(rootRouter, deps)` with an unprefixed router mounts both: the API routes on
 *     an /api/v1 sub-router, the health endpoints at the root.
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import type { HttpDeps } from '../deps.ts';
import * as acls from './acls.ts';
import * as adminUsers from './admin-users.ts';
import * as applyStatus from './apply-status.ts';
import * as audit from './audit.ts';
import * as batch from './batch.ts';
import * as auth from './auth.ts';
import * as brokerActions from './broker-actions.ts';
import * as brokerStatus from './broker-status.ts';
import * as brokerConfig from './broker-config.ts';
import * as certificates from './certificates.ts';
import * as clients from './clients.ts';
import * as events from './events.ts';
import * as gitops from './gitops.ts';
import * as health from './health.ts';
import * as importFiles from './import.ts';
import * as jsonSchemas from './json-schemas.ts';
import * as lockouts from './lockouts.ts';
import * as mqttUsers from './mqtt-users.ts';
import * as oidc from './oidc.ts';
import * as openapi from './openapi.ts';
import * as roles from './roles.ts';
import * as securityEvents from './security-events.ts';
import * as settings from './settings.ts';
import * as sparkplug from './sparkplug.ts';
import * as state from './state.ts';
import * as topics from './topics.ts';
import * as webhooks from './webhooks.ts';
import * as tokens from './tokens.ts';
import { API_PREFIX, type RouteSpec } from './route-spec.ts';

type RouteModule = Readonly<{ routes: readonly RouteSpec[]; register: (router: Router, deps: HttpDeps) => void }>;

/** Under /api/v1, in mounting order. */
const API_MODULES: readonly RouteModule[] = [
  { routes: auth.routes, register: auth.registerAuthRoutes },
  { routes: oidc.routes, register: oidc.registerOidcRoutes },
  { routes: adminUsers.routes, register: adminUsers.registerAdminUserRoutes },
  { routes: tokens.routes, register: tokens.registerTokenRoutes },
  { routes: mqttUsers.routes, register: mqttUsers.registerMqttUserRoutes },
  { routes: roles.routes, register: roles.registerRoleRoutes },
  { routes: acls.routes, register: acls.registerAclRoutes },
  { routes: batch.routes, register: batch.registerBatchRoutes },
  { routes: jsonSchemas.routes, register: jsonSchemas.registerJsonSchemaRoutes },
  { routes: settings.routes, register: settings.registerSettingsRoutes },
  { routes: events.routes, register: events.registerEventRoutes },
  { routes: state.routes, register: state.registerStateRoutes },
  { routes: audit.routes, register: audit.registerAuditRoutes },
  { routes: securityEvents.routes, register: securityEvents.registerSecurityEventRoutes },
  { routes: lockouts.routes, register: lockouts.registerLockoutRoutes },
  { routes: applyStatus.routes, register: applyStatus.registerApplyStatusRoutes },
  { routes: webhooks.routes, register: webhooks.registerWebhookRoutes },
  { routes: brokerConfig.routes, register: brokerConfig.registerBrokerConfigRoutes },
  { routes: certificates.routes, register: certificates.registerCertificateRoutes },
  { routes: gitops.routes, register: gitops.registerGitopsRoutes },
  { routes: importFiles.routes, register: importFiles.registerImportRoutes },
  { routes: brokerStatus.routes, register: brokerStatus.registerBrokerStatusRoutes },
  { routes: clients.routes, register: clients.registerClientRoutes },
  { routes: topics.routes, register: topics.registerTopicRoutes },
  { routes: brokerActions.routes, register: brokerActions.registerBrokerActionRoutes },
  { routes: sparkplug.routes, register: sparkplug.registerSparkplugRoutes },
  { routes: openapi.routes, register: openapi.registerOpenApiRoutes },
];

/** Outside /api/v1. */
const ROOT_MODULES: readonly RouteModule[] = [
  { routes: health.routes, register: health.registerHealthRoutes },
];

/** A route with the full request path (`url`, OpenAPI `{param}` syntax) it answers on. */
export type MountedRoute = RouteSpec & Readonly<{ url: string }>;

export const allRoutes = (): MountedRoute[] => [
  ...API_MODULES.flatMap((m) => m.routes.map((r) => ({ ...r, url: `${API_PREFIX}${r.path}` }))),
  ...ROOT_MODULES.flatMap((m) => m.routes.map((r) => ({ ...r, url: r.path }))),
];

/** For app.ts: routes that read their own (larger) body after the role check (import, batch). */
export const readsOwnBody = (ctx: Context): boolean => importFiles.readsOwnBody(ctx) || batch.readsOwnBody(ctx);

export const registerApiRoutes = (router: Router, deps: HttpDeps): void => {
  for (const m of API_MODULES) m.register(router, deps);
};

export const registerRootRoutes = (router: Router, deps: HttpDeps): void => {
  for (const m of ROOT_MODULES) m.register(router, deps);
};

export const registerRoutes = (router: Router, deps: HttpDeps): void => {
  const prefix = router.opts.prefix ?? '';
  if (prefix === API_PREFIX) {
    registerApiRoutes(router, deps);
    return;
  }
  if (prefix !== '') throw new Error(`registerRoutes: mount on the root router or on one prefixed ${API_PREFIX}, not ${prefix}`);
  const api = new Router({ prefix: API_PREFIX });
  registerApiRoutes(api, deps);
  registerRootRoutes(router, deps);
  router.use(api.routes(), api.allowedMethods());
};
