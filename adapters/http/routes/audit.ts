/**
 * The audit view (DESIGN §4): who changed what, when — one row per recorded event, secrets
 * redacted (projections/audit-log.ts). Newest first by default. Filters (actor, type, time) are
 * applied while scanning the log in seq windows, so a page never needs the whole log in memory.
 */
import type Router from '@koa/router';
import { DomainError, ERROR_CODES } from '../../../core/errors.ts';
import type { EventEnvelope } from '../../../core/events.ts';
import { auditMatches, auditRow, type AuditFilter, type AuditRow, type RedactOptions } from '../../../projections/audit-log.ts';
import { seesFullWebhookUrls } from './context.ts';
import type { HttpDeps } from '../deps.ts';
import { setEtag } from '../etag.ts';
import { decodeCursor, encodeCursor, parseLimit, queryString } from '../pagination.ts';
import { mountRoutes, type RouteSpec } from './route-spec.ts';

export const routes: readonly RouteSpec[] = [
  { method: 'GET', path: '/audit-events', minRole: 'auditor' },
];

/** Seqs read per step while filtering. */
const WINDOW = 500;

const invalid = (field: string, message: string, value: unknown): DomainError =>
  new DomainError(ERROR_CODES.VALIDATION, message, [{ field, value: typeof value === 'string' ? value.slice(0, 100) : value }]);

/** An ISO-8601 date or date-time → the Clock's `toISOString()` form, so text order is time order. */
export const parseInstant = (query: Record<string, unknown>, name: string): string | undefined => {
  const raw = queryString(query, name);
  if (raw === undefined) return undefined;
  const ms = /^\d{4}-\d{2}-\d{2}([T ][0-9:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(raw) ? Date.parse(raw) : Number.NaN;
  if (Number.isNaN(ms)) throw invalid(name, `query parameter "${name}" must be an ISO-8601 date-time, e.g. 2025-03-01T09:00:00Z`, raw);
  return new Date(ms).toISOString();
};

export type AuditQuery = AuditFilter & { order: 'asc' | 'desc'; limit: number; cursor?: number };

const parseAuditQuery = (query: Record<string, unknown>): AuditQuery => {
  const order = queryString(query, 'order') ?? 'desc';
  if (order !== 'asc' && order !== 'desc') throw invalid('order', 'query parameter "order" must be "asc" or "desc"', order);
  const rawCursor = queryString(query, 'cursor');
  let cursor: number | undefined;
  if (rawCursor !== undefined) {
    const k = decodeCursor(rawCursor);
    if (typeof k !== 'number' || k < 0) throw invalid('cursor', 'cursor is not valid for this collection', rawCursor);
    cursor = k;
  }
  const actor = queryString(query, 'actor');
  const type = queryString(query, 'type');
  const since = parseInstant(query, 'since');
  const until = parseInstant(query, 'until');
  return {
    order,
    limit: parseLimit(query),
    ...(cursor === undefined ? {} : { cursor }),
    ...(actor === undefined ? {} : { actor }),
    ...(type === undefined ? {} : { types: type.split(',').map((s) => s.trim()).filter((s) => s !== '') }),
    ...(since === undefined ? {} : { since }),
    ...(until === undefined ? {} : { until }),
  };
};

/**
 * Up to `limit + 1` matching rows after (asc) or before (desc) the cursor. Seqs are dense
 * (1, 2, 3…, checked by verify), so a window of seqs is a window of rows.
 */
export const scanAudit = (read: (q: { after: number; to: number }) => EventEnvelope[], head: number, q: AuditQuery, opts: RedactOptions = { fullWebhookUrls: false }): { items: AuditRow[]; next: string | null } => {
  const found: AuditRow[] = [];
  const want = q.limit + 1;
  if (q.order === 'asc') {
    let after = q.cursor ?? 0;
    while (found.length < want && after < head) {
      const to = Math.min(head, after + WINDOW);
      for (const e of read({ after, to })) if (found.length < want && auditMatches(e, q)) found.push(auditRow(e, opts));
      after = to;
    }
  } else {
    let to = q.cursor === undefined ? head : q.cursor - 1;
    while (found.length < want && to > 0) {
      const after = Math.max(0, to - WINDOW);
      const batch = read({ after, to });
      for (let i = batch.length - 1; i >= 0; i--) {
        const e = batch[i] as EventEnvelope;
        if (found.length < want && auditMatches(e, q)) found.push(auditRow(e, opts));
      }
      to = after;
    }
  }
  const items = found.slice(0, q.limit);
  const last = items[items.length - 1];
  return { items, next: found.length > q.limit && last ? encodeCursor(last.seq) : null };
};

export const registerAuditRoutes = (router: Router, deps: HttpDeps): void => {
  mountRoutes(router, routes, {
    'GET /audit-events': (ctx) => {
      const q = parseAuditQuery(ctx.query);
      const head = deps.store.headSeq();
      setEtag(ctx, head);
      ctx.body = scanAudit((r) => deps.store.read(r), head, q, { fullWebhookUrls: seesFullWebhookUrls(ctx) });
    },
  });
};
