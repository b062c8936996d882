/**
 * Failed sign-in attempts (DESIGN §9), one row per failure, in the server's database so a restart
 * keeps a lockout. The lockout (adapters/http/auth/lockout.ts) counts its three counters from
 * these rows: the (address, username) pair, the address and the username. The CLI lifts locks
 * here directly when no server runs (`mcm admins unlock`).
 *
 * Bounded: rows older than the window can't matter and are pruned; past `maxRows` the oldest go.
 */
import type { DatabaseSync } from 'node:sqlite';

export type LoginFailure = Readonly<{ addressKey: string; ip: string; username: string; atMs: number }>;

/** What an unlock forgets: failures of that username, from that address (key), or of the pair. */
export type LoginFailureFilter = Readonly<{ username?: string; addressKey?: string }>;

export type LoginFailureTable = {
  record(failure: LoginFailure): void;
  /** Failure times (ms, oldest first) after `sinceMs` matching the filter ('' username = none given). */
  times(filter: LoginFailureFilter, sinceMs: number): number[];
  /** Every failure after `sinceMs`, oldest first (the lock listing). */
  since(sinceMs: number): LoginFailure[];
  /** Deletes the failures matching the filter (at least one field); returns how many. */
  clear(filter: LoginFailureFilter): number;
  /** Deletes failures at or before `beforeMs`, then the oldest past `maxRows`; returns how many. */
  prune(beforeMs: number): number;
};

const PRUNE_EVERY_RECORDS = 100;

export const createLoginFailureTable = (deps: Readonly<{ db: DatabaseSync; maxRows?: number }>): LoginFailureTable => {
  const { db, maxRows = 100_000 } = deps;
  const insert = db.prepare('INSERT INTO login_failures (address_key, ip, username, at_ms) VALUES (?, ?, ?, ?)');
  const byPair = db.prepare('SELECT at_ms FROM login_failures WHERE address_key = ? AND username = ? AND at_ms > ? ORDER BY at_ms');
  const byAddress = db.prepare('SELECT at_ms FROM login_failures WHERE address_key = ? AND at_ms > ? ORDER BY at_ms');
  const byUsername = db.prepare('SELECT at_ms FROM login_failures WHERE username = ? AND at_ms > ? ORDER BY at_ms');
  const all = db.prepare('SELECT address_key, ip, username, at_ms FROM login_failures WHERE at_ms > ? ORDER BY at_ms, id');
  let recorded = 0;

  const column = (rows: unknown[]): number[] => rows.map((r) => Number((r as { at_ms: number }).at_ms));

  const prune = (beforeMs: number): number => {
    const old = Number(db.prepare('DELETE FROM login_failures WHERE at_ms <= ?').run(beforeMs).changes);
    const excess = Number(db.prepare(
      'DELETE FROM login_failures WHERE id IN (SELECT id FROM login_failures ORDER BY id DESC LIMIT -1 OFFSET ?)',
    ).run(maxRows).changes);
    return old + excess;
  };

  return {
    record: (f) => {
      insert.run(f.addressKey, f.ip, f.username, f.atMs);
      recorded += 1;
      if (recorded % PRUNE_EVERY_RECORDS === 0) {
        db.prepare('DELETE FROM login_failures WHERE id IN (SELECT id FROM login_failures ORDER BY id DESC LIMIT -1 OFFSET ?)').run(maxRows);
      }
    },
    times: (filter, sinceMs) => {
      if (filter.addressKey !== undefined && filter.username !== undefined) return column(byPair.all(filter.addressKey, filter.username, sinceMs));
      if (filter.addressKey !== undefined) return column(byAddress.all(filter.addressKey, sinceMs));
      if (filter.username !== undefined) return column(byUsername.all(filter.username, sinceMs));
      throw new Error('login failure filter needs a username or an address');
    },
    since: (sinceMs) => all.all(sinceMs).map((r) => {
      const row = r as { address_key: string; ip: string; username: string; at_ms: number };
      return { addressKey: row.address_key, ip: row.ip, username: row.username, atMs: Number(row.at_ms) };
    }),
    clear: (filter) => {
      const where: string[] = [];
      const args: string[] = [];
      if (filter.username !== undefined) { where.push('username = ?'); args.push(filter.username); }
      if (filter.addressKey !== undefined) { where.push('address_key = ?'); args.push(filter.addressKey); }
      if (where.length === 0) throw new Error('login failure filter needs a username or an address');
      return Number(db.prepare(`DELETE FROM login_failures WHERE ${where.join(' AND ')}`).run(...args).changes);
    },
    prune,
  };
};
