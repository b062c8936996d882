/**
 * Security events (DESIGN §1, §9): failed logins, lockouts, failed applies, drift — observations
 * kept in their own append-only table, newest first. Filtering and paging are the table's
 * (adapters/sqlite/security-events.ts); this route only parses the query.
 */
import type Router from '@koa/router';
import { DomainError, ERROR_CODES } from '../../../core/errors.ts';
import type { HttpDeps } from '../deps.ts';
import { parseLimit, queryString } from '../pagination.ts';
import { parseInstant } from './audit.ts';
import { mountRoutes, type RouteSpec } from './route-spec.ts';

export const routes: readonly RouteSpec[] = [
  { method: 'GET', path: '/security/events', minRole: 'auditor' },
];

const SEVERITIES = ['info', 'warning', 'critical'] as const;
type Severity = (typeof SEVERITIES)[number];
const isSeverity = (s: string): s is Severity => (SEVERITIES as readonly string[]).includes(s);

export const registerSecurityEventRoutes = (router: Router, deps: HttpDeps): void => {
  mountRoutes(router, routes, {
    'GET /security/events': (ctx) => {
      const category = queryString(ctx.query, 'category');
      const severity = queryString(ctx.query, 'severity');
      if (severity !== undefined && !isSeverity(severity)) {
        throw new DomainError(ERROR_CODES.VALIDATION, `query parameter "severity" must be one of ${SEVERITIES.join(', ')}`, [
          { field: 'severity', value: severity.slice(0, 100) },
        ]);
      }
      const since = parseInstant(ctx.query, 'since');
      const until = parseInstant(ctx.query, 'until');
      const cursor = queryString(ctx.query, 'cursor');
      const page = deps.securityLog.list({
        limit: parseLimit(ctx.query),
        ...(category === undefined ? {} : { category }),
        ...(severity === undefined ? {} : { severity }),
        ...(since === undefined ? {} : { since }),
        ...(until === undefined ? {} : { until }),
        ...(cursor === undefined ? {} : { cursor }),
      });
      ctx.body = { items: page.items, next: page.next ?? null };
    },
  });
};
