/**
 * The webhook outbox (issue 5: "a persistent outbox in SQLite"): one row per delivery in
 * `webhook_deliveries` (migration 2). A row is `pending` until a 2xx answer (`delivered`) or until
 * it runs out of attempts (`dead`, the dead letter). Rows survive restarts: the dispatcher sends
 * whatever is due when it starts. Times are ISO-8601 UTC strings from the Clock, which compare
 * correctly as text.
 *
 * Admin changes are queued from the event log through a cursor (`webhook_cursor`, migration 6):
 * the last event seq turned into deliveries, moved in the same transaction as the rows it
 * queues (`advance`). A change committed to the log but not yet queued is therefore never lost
 * and never queued twice: whoever advances next (the next append, the next start) queues it.
 */
import type { DatabaseSync } from 'node:sqlite';

export const DELIVERY_STATUSES = ['pending', 'delivered', 'dead'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export type Delivery = {
  id: number;
  webhook_id: number;
  event_type: string;
  /** The `data` member of the body sent (parsed JSON). */
  data: unknown;
  status: DeliveryStatus;
  /** Attempts started so far (a claim counts one, so a crash mid-send is counted too). */
  attempts: number;
  next_attempt_at: string;
  last_status_code: number | null;
  last_error: string | null;
  created_at: string;
  delivered_at: string | null;
};

export type NewDelivery = Readonly<{ webhookId: number; eventType: string; data: unknown }>;

export type DeliveryQuery = Readonly<{
  limit: number;
  /** Only rows older than this id (the `next` of the previous page). */
  before?: number;
  status?: DeliveryStatus;
}>;

export type DeliveryPage = { items: Delivery[]; next: number | null };

/** What `advance` queues for the events after the cursor, and the seq the cursor moves to. */
export type CursorStep = Readonly<{ rows: readonly NewDelivery[]; through: number }>;

export type WebhookOutbox = {
  /** Inserts pending rows due at `at` (one transaction). Returns their ids. */
  enqueue(rows: readonly NewDelivery[], at: string): number[];
  /** The last event seq turned into deliveries (the catch-up cursor). */
  cursor(): number;
  /**
   * One write transaction: reads the cursor, asks `plan` what to queue for the events after it,
   * inserts those rows (due at `at`) and moves the cursor to `through` — both commit or neither.
   * `plan` returning null changes nothing. A `through` at or behind the cursor is refused (the
   * cursor only moves forward). Returns the new rows' ids.
   */
  advance(plan: (cursor: number) => CursorStep | null, at: string): number[];
  /**
   * Takes up to `limit` pending rows due at `now`, oldest first: counts the attempt and moves
   * `next_attempt_at` to `leaseUntil`, so the row is not taken twice while in flight and is
   * retried after the lease if the process dies before recording the outcome.
   */
  claim(now: string, leaseUntil: string, limit: number): Delivery[];
  markDelivered(id: number, statusCode: number, at: string): void;
  /** A failed attempt with another one to come at `nextAttemptAt`. */
  markRetry(id: number, failure: Readonly<{ statusCode: number | null; error: string; nextAttemptAt: string }>): void;
  /** The dead letter: no more attempts. */
  markDead(id: number, failure: Readonly<{ statusCode: number | null; error: string }>): void;
  /** Dead-letters every pending row of a webhook (it was deleted). Returns how many. */
  abandon(webhookId: number, reason: string): number;
  get(id: number): Delivery | null;
  /** A webhook's deliveries, newest first. */
  list(webhookId: number, query: DeliveryQuery): DeliveryPage;
  /** The earliest `next_attempt_at` of a pending row, or null when none is pending. */
  nextDueAt(): string | null;
  /** Deletes delivered and dead rows created before `before`. Returns how many. */
  prune(before: string): number;
};

type Row = Omit<Delivery, 'data'> & { payload: string };

const MAX_ERROR_LENGTH = 500;

const toDelivery = ({ payload, ...row }: Row): Delivery => {
  let data: unknown = null;
  try { data = JSON.parse(payload); } catch { /* a damaged payload must not hide the row */ }
  return { ...row, data };
};

const cut = (s: string): string => (s.length > MAX_ERROR_LENGTH ? `${s.slice(0, MAX_ERROR_LENGTH)}…` : s);

export const createWebhookOutbox = (deps: Readonly<{ db: DatabaseSync }>): WebhookOutbox => {
  const { db } = deps;
  const insert = db.prepare(
    "INSERT INTO webhook_deliveries (webhook_id, event_type, payload, status, attempts, next_attempt_at, created_at) VALUES (?, ?, ?, 'pending', 0, ?, ?) RETURNING id",
  );
  // One statement: atomic without an explicit transaction.
  const claimStmt = db.prepare(
    `UPDATE webhook_deliveries SET attempts = attempts + 1, next_attempt_at = ?
     WHERE id IN (SELECT id FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?)
     RETURNING *`,
  );
  const deliveredStmt = db.prepare(
    "UPDATE webhook_deliveries SET status = 'delivered', last_status_code = ?, last_error = NULL, delivered_at = ? WHERE id = ? AND status = 'pending'",
  );
  const retryStmt = db.prepare(
    "UPDATE webhook_deliveries SET last_status_code = ?, last_error = ?, next_attempt_at = ? WHERE id = ? AND status = 'pending'",
  );
  const deadStmt = db.prepare(
    "UPDATE webhook_deliveries SET status = 'dead', last_status_code = ?, last_error = ? WHERE id = ? AND status = 'pending'",
  );
  const abandonStmt = db.prepare(
    "UPDATE webhook_deliveries SET status = 'dead', last_error = ? WHERE webhook_id = ? AND status = 'pending'",
  );
  const getStmt = db.prepare('SELECT * FROM webhook_deliveries WHERE id = ?');
  const listStmt = db.prepare(
    'SELECT * FROM webhook_deliveries WHERE webhook_id = ? AND id < ? AND (? IS NULL OR status = ?) ORDER BY id DESC LIMIT ?',
  );
  const nextDueStmt = db.prepare("SELECT min(next_attempt_at) AS at FROM webhook_deliveries WHERE status = 'pending'");
  const pruneStmt = db.prepare("DELETE FROM webhook_deliveries WHERE status IN ('delivered', 'dead') AND created_at < ?");
  const cursorStmt = db.prepare('SELECT seq FROM webhook_cursor WHERE id = 1');
  const setCursorStmt = db.prepare(
    'INSERT INTO webhook_cursor (id, seq) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET seq = excluded.seq',
  );
  const readCursor = (): number => Number((cursorStmt.get() as { seq: number } | undefined)?.seq ?? 0);

  /** `fn` in a write transaction of its own, or in the caller's when one is open. */
  const inTransaction = <T>(fn: () => T): T => {
    const own = !db.isTransaction;
    if (own) db.exec('BEGIN IMMEDIATE');
    try {
      const result = fn();
      if (own) db.exec('COMMIT');
      return result;
    } catch (err) {
      if (own && db.isTransaction) db.exec('ROLLBACK');
      throw err;
    }
  };
  const insertRows = (rows: readonly NewDelivery[], at: string): number[] => rows.map((r) => {
    const row = insert.get(r.webhookId, r.eventType, JSON.stringify(r.data ?? null), at, at) as { id: number };
    return Number(row.id);
  });

  return {
    enqueue(rows, at) {
      if (rows.length === 0) return [];
      return inTransaction(() => insertRows(rows, at));
    },
    cursor: readCursor,
    advance(plan, at) {
      return inTransaction(() => {
        // Read under the write lock: what another connection queued is not queued again.
        const cursor = readCursor();
        const step = plan(cursor);
        if (step === null) return [];
        if (!Number.isSafeInteger(step.through) || step.through <= cursor) {
          throw new Error(`webhook cursor can only move forward: at ${cursor}, asked for ${step.through}`);
        }
        const ids = insertRows(step.rows, at);
        setCursorStmt.run(step.through);
        return ids;
      });
    },
    claim(now, leaseUntil, limit) {
      if (limit <= 0) return [];
      const rows = claimStmt.all(leaseUntil, now, limit) as unknown as Row[];
      return rows.map(toDelivery).sort((a, b) => a.id - b.id);
    },
    markDelivered(id, statusCode, at) {
      deliveredStmt.run(statusCode, at, id);
    },
    markRetry(id, f) {
      retryStmt.run(f.statusCode, cut(f.error), f.nextAttemptAt, id);
    },
    markDead(id, f) {
      deadStmt.run(f.statusCode, cut(f.error), id);
    },
    abandon(webhookId, reason) {
      return Number(abandonStmt.run(cut(reason), webhookId).changes);
    },
    get(id) {
      const row = getStmt.get(id) as Row | undefined;
      return row ? toDelivery(row) : null;
    },
    list(webhookId, q) {
      const status = q.status ?? null;
      // One extra row says whether there is a next page.
      const rows = listStmt.all(webhookId, q.before ?? Number.MAX_SAFE_INTEGER, status, status, q.limit + 1) as unknown as Row[];
      const items = rows.slice(0, q.limit).map(toDelivery);
      const last = items[items.length - 1];
      return { items, next: rows.length > q.limit && last ? last.id : null };
    },
    nextDueAt() {
      const row = nextDueStmt.get() as { at: string | null } | undefined;
      return row?.at ?? null;
    },
    prune(before) {
      return Number(pruneStmt.run(before).changes);
    },
  };
};
