/**
 * Security events (DESIGN §1): observations such as failed logins, failed applies and drift. They
 * are not admin changes, so they are not in the event log; they live in their own append-only
 * table so they survive restarts. Served newest first by `GET /api/v1/security/events`.
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
  record(input: SecurityEventInput): SecurityEvent;
  list(query?: SecurityEventQuery): SecurityEventPage;
  count(filter?: SecurityEventFilter): number;
};

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

type Row = { id: number; at: string; category: string; severity: Severity; message: string; details: string; actor: string | null; ip: string | null };

const toEvent = (row: Row): SecurityEvent => {
  let details: Record<string, unknown> = {};
  try {
    const parsed = JSON.parse(row.details) as unknown;
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) details = parsed as Record<string, unknown>;
  } catch {
    // a damaged details column must not hide the event itself
  }
  return { id: row.id, at: row.at, category: row.category, severity: row.severity, message: row.message, details, actor: row.actor, ip: row.ip };
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

export const createSecurityEventLog = (deps: Readonly<{ db: DatabaseSync; clock: Clock }>): SecurityEventLog => {
  const { db, clock } = deps;
  const insertStmt = db.prepare(
    'INSERT INTO security_events (at, category, severity, message, details, actor, ip) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *',
  );
  // Filters combine freely; each combination's statement is prepared once.
  const cache = new Map<string, StatementSync>();
  const stmt = (sql: string): StatementSync => {
    let s = cache.get(sql);
    if (!s) { s = db.prepare(sql); cache.set(sql, s); }
    return s;
  };

  const record = (input: SecurityEventInput): SecurityEvent => {
    if (typeof input.category !== 'string' || input.category.trim() === '') throw invalid('category must be a non-empty string', { category: input.category });
    if (!isSeverity(input.severity)) throw invalid(`severity must be one of ${SEVERITIES.join(', ')}`, { severity: input.severity });
    if (typeof input.message !== 'string') throw invalid('message must be a string', {});
    const details = JSON.stringify(redact(input.details ?? {}));
    const row = insertStmt.get(clock.now(), input.category, input.severity, input.message, details, input.actor ?? null, input.ip ?? null);
    return toEvent(row as unknown as Row);
  };

  const list = (query: SecurityEventQuery = {}): SecurityEventPage => {
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

  return { record, list, count };
};
