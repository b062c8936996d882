/**
 * The live topic tree (viewer, DESIGN §7, §8):
 * - `GET /topics?prefix=&depth=` browses: the items `depth` levels below `prefix`, each with
 *   counts aggregated over everything beneath it;
 * - `GET /topics?q=` (substring) and/or `filter=` (an MQTT filter, matched as the broker does)
 *   searches instead;
 * - `GET /topics/{topic}` is one topic (one URL-encoded path segment, `/` as `%2F`): counts,
 *   rate, retained flag, QoS, the last payload preview and the recent history.
 */
import type Router from '@koa/router';
import { assertTopicFilter } from '../../../core/topic-filter.ts';
import { DomainError, ERROR_CODES } from '../../../core/errors.ts';
import type { HttpDeps } from '../deps.ts';
import { HttpError } from '../errors.ts';
import { queryInt, queryString } from '../pagination.ts';
import { requireObserver } from './broker-status.ts';
import { param } from './context.ts';
import { mountRoutes, type RouteSpec } from './route-spec.ts';

export const routes: readonly RouteSpec[] = [
  { method: 'GET', path: '/topics', minRole: 'viewer' },
  { method: 'GET', path: '/topics/{topic}', minRole: 'viewer' },
];

export const TOPIC_NOT_FOUND = 'MCM_ERR_TOPIC_NOT_FOUND';

/** The longest topic name MQTT allows (a UTF-8 string of up to 65535 bytes, MQTT-1.5.4). */
const MAX_TOPIC_LENGTH = 65535;

const textParam = (query: Record<string, unknown>, name: string): string | undefined => {
  const v = queryString(query, name);
  if (v !== undefined && v.length > MAX_TOPIC_LENGTH) {
    throw new DomainError(ERROR_CODES.VALIDATION, `query parameter "${name}" is too long`, [{ field: name }]);
  }
  return v;
};

export const registerTopicRoutes = (router: Router, deps: HttpDeps): void => {
  mountRoutes(router, routes, {
    'GET /topics': (ctx) => {
      const prefix = textParam(ctx.query, 'prefix') ?? '';
      const depth = queryInt(ctx.query, 'depth', 1, 32) ?? 1;
      const limit = queryInt(ctx.query, 'limit', 1, 1000);
      const q = textParam(ctx.query, 'q');
      const filterRaw = textParam(ctx.query, 'filter');
      const filter = filterRaw === undefined || filterRaw === '' ? undefined : assertTopicFilter(filterRaw, 'filter');
      const o = requireObserver(deps);
      const stats = o.topics.stats();
      if ((q !== undefined && q !== '') || filter !== undefined) {
        const found = o.topics.search({
          ...(q ? { q } : {}), ...(filter ? { filter } : {}), ...(limit === undefined ? {} : { limit }),
        });
        ctx.body = { mode: 'search', ...found, stats };
        return;
      }
      ctx.body = { mode: 'browse', ...o.topics.list({ prefix, depth, ...(limit === undefined ? {} : { limit }) }), stats };
    },

    'GET /topics/{topic}': (ctx) => {
      const topic = param(ctx, 'topic');
      const o = requireObserver(deps);
      const detail = o.topics.get(topic);
      if (!detail) {
        throw new HttpError(404, TOPIC_NOT_FOUND, 'no message seen on this topic (or it was evicted from the bounded tree)', [
          { topic: topic.length > 200 ? `${topic.slice(0, 200)}…` : topic },
        ]);
      }
      ctx.body = detail;
    },
  });
};
