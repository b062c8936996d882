/**
 * The event log itself (DESIGN §4): `GET /events` pages through recorded events in seq order
 * with secrets redacted (data keys naming a hash, secret or ciphertext), and `GET /events/verify`
 * walks the hash chain.
 */
import type Router from '@koa/router';
import { DomainError, ERROR_CODES } from '../../../core/errors.ts';
import type { EventEnvelope } from '../../../core/events.ts';
import { redactEventData, type RedactOptions } from '../../../projections/audit-log.ts';
import { seesFullWebhookUrls } from './context.ts';
import type { HttpDeps } from '../deps.ts';
import { setEtag } from '../etag.ts';
import { createLogReader } from '../../sqlite/log-reader.ts';
import { decodeCursor, encodeCursor, parseLimit, queryInt, queryString } from '../pagination.ts';
import { mountRoutes, type RouteSpec } from './route-spec.ts';

export const routes: readonly RouteSpec[] = [
  { method: 'GET', path: '/events', minRole: 'auditor' },
  { method: 'GET', path: '/events/verify', minRole: 'auditor' },
];

/** The envelope as stored, with its payload's secrets redacted (the chain hashes are not secrets). */
export const eventView = (e: EventEnvelope, opts: RedactOptions = { fullWebhookUrls: false }): Record<string, unknown> => ({
  seq: e.seq,
  stream: e.stream,
  type: e.type,
  version: e.version,
  data: redactEventData(e, opts),
  actor: e.actor,
  at: e.at,
  prev_hash: e.prev_hash,
  hash: e.hash,
});

/** `cursor` (from `next`) wins over `after`; both mean "events with a greater seq". */
const startAfter = (query: Record<string, unknown>): number => {
  const cursor = queryString(query, 'cursor');
  if (cursor !== undefined) {
    const k = decodeCursor(cursor);
    if (typeof k !== 'number' || k < 0) throw new DomainError(ERROR_CODES.VALIDATION, 'cursor is not valid for this collection', [{ field: 'cursor' }]);
    return k;
  }
  return queryInt(query, 'after') ?? 0;
};

export const registerEventRoutes = (router: Router, deps: HttpDeps): void => {
  const path = deps.db.location();
  const reader = path ? createLogReader({ dbPath: path }) : null;
  mountRoutes(router, routes, {
    'GET /events': (ctx) => {
      const after = startAfter(ctx.query);
      const limit = parseLimit(ctx.query);
      const stream = queryString(ctx.query, 'stream');
      const head = deps.store.headSeq();
      // One more than asked: whether it exists says whether there is a next page.
      const rows = deps.store.read({ after, limit: limit + 1, ...(stream === undefined ? {} : { stream }) });
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      setEtag(ctx, head);
      const opts = { fullWebhookUrls: seesFullWebhookUrls(ctx) };
      ctx.body = { items: page.map((e) => eventView(e, opts)), next: rows.length > limit && last ? encodeCursor(last.seq) : null };
    },

    // The walk reads every row: on its own thread, so probes and heartbeats don't wait for it.
    'GET /events/verify': async (ctx) => {
      ctx.body = reader ? await reader.verify() : deps.store.verify();
    },
  });
};
