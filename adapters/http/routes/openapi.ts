/**
 * `GET /api/v1/openapi.json` (DESIGN §8): the same document that validates request bodies
 * (adapters/http/validate.ts), served as JSON without auth.
 */
import type Router from '@koa/router';
import type { HttpDeps } from '../deps.ts';
import { openApiDocument } from '../validate.ts';
import { mountRoutes, type RouteSpec } from './route-spec.ts';

export const routes: readonly RouteSpec[] = [
  { method: 'GET', path: '/openapi.json', minRole: 'none' },
];

export const registerOpenApiRoutes = (router: Router, _deps: HttpDeps): void => {
  // Serialised once, on first request: the document never changes while the process runs.
  let json: string | null = null;
  mountRoutes(router, routes, {
    'GET /openapi.json': (ctx) => {
      ctx.type = 'application/json';
      ctx.body = (json ??= JSON.stringify(openApiDocument()));
    },
  });
};
