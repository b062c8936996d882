/**
 * Security events (DESIGN §1): observations such as failed logins, failed applies and drift. They
 * are not admin changes, so they are not in the event log; they live in their own table so they
 * survive restarts. Served newest first by `GET /api/v1/security/events`.
 *
 * Bounded (issue "second hardening round"): repeats of a noisy event — a bad token, a failed
 * sign-in — with the same category, address and username within the aggregation window are one
 * row with a `count` (flushed at most once a second, not written per request), and only the first
 * of a window is relayed (ws, webhooks). Rows past the retention age or the row cap are deleted,
 * the oldest non-critical first; critical events go only by age.
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { DomainError, ERROR_CODES } from '../../core/errors.ts';
import type { Clock } from '../../core/ports.ts';

export const SEVERITIES = ['info', 'warning', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export type SecurityEventInput = Readonly<{
  /** Free dotted string: 'auth.login_failed', 'apply.failed', 'drift', … */
  category: string;
  severity: Severity;
  message: string;
  details?: Readonly<Record<string, unknown>>;
  /** Who it concerns or who caused it (e.g. the attempted username); never a secret. */
  actor?: string | null;
  ip?: string | null;
}>;

export type SecurityEvent = {
  id: number;
  at: string;
  /** How many times it happened in its aggregation window (1 for a lone event). */
  count: number;
  /** The time of the last repeat, or null for a lone event. */
  last_at: string | null;
  category: string;
  severity: Severity;
  message: string;
  details: Record<string, unknown>;
  actor: string | null;
  ip: string | null;
};

export type SecurityEventFilter = Readonly<{
  category?: string;
  /** Matches categories starting with this, e.g. 'auth.'. */
  categoryPrefix?: string;
  severity?: Severity;
  /** ISO-8601 UTC, inclusive. */
  since?: string;
  /** ISO-8601 UTC, exclusive. */
  until?: string;
}>;

export type SecurityEventQuery = SecurityEventFilter & Readonly<{
  limit?: number;
  /** The `next` of the previous page: only events older than it (smaller id). */
  cursor?: string | number;
}>;

export type SecurityEventPage = { items: SecurityEvent[]; next?: string };

export type SecurityEventLog = {
  /** The new row, or the open row a repeat was counted into (`repeated: true`: nothing to relay). */
  record(input: SecurityEventInput): SecurityEvent & { repeated?: boolean };
  list(query?: SecurityEventQuery): SecurityEventPage;
  count(filter?: SecurityEventFilter): number;
  /** How many times matching events happened: the sum of their counts (repeats included). */
  occurrences(filter?: SecurityEventFilter): number;
  /** Deletes rows past the retention age and the row cap now; returns how many. */
  prune(): number;
  /** Writes the counts of repeats still in memory. */
  flush(): void;
  /** Flushes and stops the timers. */
  close(): void;
};

export type SecurityEventRetention = Readonly<{
  /** Rows older than this are deleted. */
  retentionDays: number;
  /** At most this many rows; the oldest non-critical ones go first. */
  maxRows: number;
  /** Repeats within this many seconds are one row (0: never aggregate). */
  aggregateWindowS: number;
}>;

export const DEFAULT_RETENTION: SecurityEventRetention = { retentionDays: 90, maxRows: 100_000, aggregateWindowS: 60 };

/**
 * Categories a hostile client can produce at will, one per request: aggregated. Everything else
 * (fail-open, failed applies, drift, lockouts, adoption, broker exits) keeps one row per event.
 */
export const AGGREGATED_CATEGORIES: ReadonlySet<string> = new Set([
  'auth.token_invalid', 'auth.login_failed', 'auth.mfa_failed', 'auth.reauth_failed', 'auth.sso_failed',
]);

/** Distinct (category, address, username) windows kept open in memory; the oldest is closed past this. */
const MAX_OPEN_WINDOWS = 10_000;
const PRUNE_EVERY_INSERTS = 1000;
const FLUSH_MS = 1000;
const HOUR_MS = 3_600_000;

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 1000;

// Keys whose values must never be stored, whoever passes them (DESIGN §9: no secret in logs).
const SECRET_KEY = /pass(word|wd)|secret|token|authorization|cookie/i;

const redact = (value: unknown, depth = 0): unknown => {
  if (value === null || typeof value !== 'object' || depth > 8) return value;
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    Object.defineProperty(out, k, {
      value: SECRET_KEY.test(k) ? '[Redacted]' : redact(v, depth + 1),
      enumerable: true, writable: true, configurable: true,
    });
  }
  return out;
};

const invalid = (message: string, detail: Record<string, unknown>): DomainError =>
  new DomainError(ERROR_CODES.VALIDATION, message, [detail]);

type Row = { id: number; at: string; category: string; severity: Severity; message: string; details: string; actor: string | null; ip: string | null; count: number; last_at: string | null };

const toEvent = (row: Row): SecurityEvent => {
  let details: Record<string, unknown> = {};
  try {
    const parsed = JSON.parse(row.details) as unknown;
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) details = parsed as Record<string, unknown>;
  } catch {
    // a damaged details column must not hide the event itself
  }
  return {
    id: row.id, at: row.at, count: Number(row.count ?? 1), last_at: row.last_at ?? null,
    category: row.category, severity: row.severity, message: row.message, details, actor: row.actor, ip: row.ip,
  };
};

const isSeverity = (s: unknown): s is Severity => typeof s === 'string' && (SEVERITIES as readonly string[]).includes(s);

/** WHERE clause and parameters for a filter; parameter order matches the clause. */
const where = (f: SecurityEventFilter): { sql: string; params: (string | number)[] } => {
  const parts: string[] = [];
  const params: (string | number)[] = [];
  if (f.category !== undefined) { parts.push('category = ?'); params.push(f.category); }
  if (f.categoryPrefix !== undefined) {
    // substr rather than LIKE: categories may contain '_' and '%', which LIKE treats as wildcards.
    parts.push('substr(category, 1, ?) = ?');
    params.push(f.categoryPrefix.length, f.categoryPrefix);
  }
  if (f.severity !== undefined) {
    if (!isSeverity(f.severity)) throw invalid(`severity must be one of ${SEVERITIES.join(', ')}`, { severity: f.severity });
    parts.push('severity = ?'); params.push(f.severity);
  }
  if (f.since !== undefined) { parts.push('at >= ?'); params.push(f.since); }
  if (f.until !== undefined) { parts.push('at < ?'); params.push(f.until); }
  return { sql: parts.length ? `WHERE ${parts.join(' AND ')}` : '', params };
};

const parseCursor = (cursor: string | number | undefined): number | undefined => {
  if (cursor === undefined || cursor === '') return undefined;
  const n = typeof cursor === 'number' ? cursor : /^[1-9][0-9]{0,15}$/.test(cursor) ? Number(cursor) : NaN;
  if (!Number.isSafeInteger(n) || n < 1) throw invalid('cursor must be the `next` value of a previous page', { cursor });
  return n;
};

type OpenWindow = { event: SecurityEvent; startedMs: number; unflushed: number };

export const createSecurityEventLog = (deps: Readonly<{ db: DatabaseSync; clock: Clock; retention?: SecurityEventRetention }>): SecurityEventLog => {
  const { db, clock } = deps;
  const retention = deps.retention ?? DEFAULT_RETENTION;
  const insertStmt = db.prepare(
    'INSERT INTO security_events (at, category, severity, message, details, actor, ip) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *',
  );
  const bumpStmt = db.prepare('UPDATE security_events SET count = count + ?, last_at = ? WHERE id = ?');
  const pruneAgeStmt = db.prepare('DELETE FROM security_events WHERE at < ?');
  const countStmt = db.prepare('SELECT count(*) AS n FROM security_events');
  // Past the cap: the oldest non-critical rows first (critical ones go only by age).
  const pruneCapStmt = db.prepare(
    "DELETE FROM security_events WHERE id IN (SELECT id FROM security_events WHERE severity != 'critical' ORDER BY id LIMIT ?)",
  );
  // Filters combine freely; each combination's statement is prepared once.
  const cache = new Map<string, StatementSync>();
  const stmt = (sql: string): StatementSync => {
    let s = cache.get(sql);
    if (!s) { s = db.prepare(sql); cache.set(sql, s); }
    return s;
  };

  const open = new Map<string, OpenWindow>();
  let flushTimer: NodeJS.Timeout | null = null;
  let inserts = 0;

  const flush = (): void => {
    if (flushTimer) { clearTimeout(flushTimer); flushTimer = null; }
    for (const w of open.values()) {
      if (w.unflushed === 0) continue;
      bumpStmt.run(w.unflushed, w.event.last_at, w.event.id);
      w.unflushed = 0;
    }
  };
  const scheduleFlush = (): void => {
    if (flushTimer) return;
    flushTimer = setTimeout(() => {
      flushTimer = null;
      try { flush(); } catch { /* retried with the next repeat; the counts stay in memory */ }
    }, FLUSH_MS);
    flushTimer.unref();
  };

  const prune = (): number => {
    flush();
    const cutoff = new Date(Date.parse(clock.now()) - retention.retentionDays * 86_400_000).toISOString();
    let removed = Number(pruneAgeStmt.run(cutoff).changes);
    const n = Number((countStmt.get() as { n: number }).n);
    if (n > retention.maxRows) removed += Number(pruneCapStmt.run(n - retention.maxRows).changes);
    // Windows whose row was deleted can't take more repeats.
    for (const [key, w] of open) if (Date.parse(w.event.at) < Date.parse(cutoff)) open.delete(key);
    return removed;
  };
  const pruneTimer = setInterval(() => { try { prune(); } catch { /* next hour */ } }, HOUR_MS);
  pruneTimer.unref();

  const record = (input: SecurityEventInput): SecurityEvent & { repeated?: boolean } => {
    if (typeof input.category !== 'string' || input.category.trim() === '') throw invalid('category must be a non-empty string', { category: input.category });
    if (!isSeverity(input.severity)) throw invalid(`severity must be one of ${SEVERITIES.join(', ')}`, { severity: input.severity });
    if (typeof input.message !== 'string') throw invalid('message must be a string', {});
    const now = clock.now();
    const nowMs = Date.parse(now);
    const aggregate = retention.aggregateWindowS > 0 && input.severity !== 'critical' && AGGREGATED_CATEGORIES.has(input.category);
    const key = aggregate ? JSON.stringify([input.category, input.ip ?? null, input.actor ?? null]) : '';
    if (aggregate) {
      const w = open.get(key);
      if (w && nowMs - w.startedMs < retention.aggregateWindowS * 1000) {
        w.event.count += 1;
        w.event.last_at = now;
        w.unflushed += 1;
        scheduleFlush();
        return { ...w.event, repeated: true };
      }
      if (w) open.delete(key);
    }
    const details = JSON.stringify(redact(input.details ?? {}));
    const row = insertStmt.get(now, input.category, input.severity, input.message, details, input.actor ?? null, input.ip ?? null);
    const event = toEvent(row as unknown as Row);
    if (aggregate) {
      if (open.size >= MAX_OPEN_WINDOWS) {
        flush();
        const oldest = open.keys().next().value;
        if (oldest !== undefined) open.delete(oldest);
      }
      open.set(key, { event: { ...event }, startedMs: nowMs, unflushed: 0 });
    }
    if (++inserts % PRUNE_EVERY_INSERTS === 0) {
      try { prune(); } catch { /* the hourly prune tries again */ }
    }
    return event;
  };

  const list = (query: SecurityEventQuery = {}): SecurityEventPage => {
    flush();
    const limit = query.limit ?? DEFAULT_LIMIT;
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw invalid(`limit must be an integer from 1 to ${MAX_LIMIT}`, { limit });
    const cursor = parseCursor(query.cursor);
    const w = where(query);
    const params = [...w.params];
    let sql = w.sql;
    if (cursor !== undefined) {
      sql = sql ? `${sql} AND id < ?` : 'WHERE id < ?';
      params.push(cursor);
    }
    // One extra row tells whether there is a next page.
    const found = stmt(`SELECT * FROM security_events ${sql} ORDER BY id DESC LIMIT ?`).all(...params, limit + 1) as unknown as Row[];
    const items = found.slice(0, limit).map(toEvent);
    const last = items[items.length - 1];
    return found.length > limit && last ? { items, next: String(last.id) } : { items };
  };

  const count = (filter: SecurityEventFilter = {}): number => {
    const w = where(filter);
    const row = stmt(`SELECT count(*) AS n FROM security_events ${w.sql}`).get(...w.params) as { n: number };
    return Number(row.n);
  };

  const occurrences = (filter: SecurityEventFilter = {}): number => {
    flush();
    const w = where(filter);
    const row = stmt(`SELECT coalesce(sum(count), 0) AS n FROM security_events ${w.sql}`).get(...w.params) as { n: number };
    return Number(row.n);
  };

  return {
    record, list, count, occurrences, prune, flush,
    close: () => {
      clearInterval(pruneTimer);
      try { flush(); } catch { /* the database may be closing too */ }
    },
  };
};
