/**
 * Is this database file sound? SQLite's own `PRAGMA integrity_check` (pages, indexes, STRICT
 * column types) and then the event log's hash chain (DESIGN §4, adapters/sqlite/event-store.ts
 * `verifyChain`). Used on a fresh snapshot before it is archived, on a restored copy before it
 * replaces anything, and by `mcm doctor`.
 */
import { DatabaseSync } from 'node:sqlite';
import { verifyChain } from '../sqlite/event-store.ts';

export type DatabaseReport =
  | { ok: true; seq: number; head_hash: string; count: number; schema_version: number }
  | { ok: false; failed: 'integrity' | 'chain' | 'open'; problem: string; schema_version: number | null };

/** Opens `path` read-only; a file that is not SQLite is reported, not thrown. */
export const checkDatabaseFile = (path: string): DatabaseReport => {
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(path, { readOnly: true });
    db.exec('PRAGMA busy_timeout = 5000');
  } catch (e) {
    return { ok: false, failed: 'open', problem: `cannot open ${path}: ${(e as Error).message}`, schema_version: null };
  }
  try {
    return checkDatabase(db);
  } catch (e) {
    // "file is not a database" surfaces on the first read, not on open.
    return { ok: false, failed: 'open', problem: `${path}: ${(e as Error).message}`, schema_version: null };
  } finally {
    db.close();
  }
};

export const checkDatabase = (db: DatabaseSync): DatabaseReport => {
  const schemaVersion = Number((db.prepare('PRAGMA user_version').get() as { user_version?: number } | undefined)?.user_version ?? 0);
  const rows = db.prepare('PRAGMA integrity_check').all() as { integrity_check: string }[];
  const messages = rows.map((r) => r.integrity_check);
  if (messages.length !== 1 || messages[0] !== 'ok') {
    const shown = messages.slice(0, 3).join('; ');
    return { ok: false, failed: 'integrity', problem: `integrity_check: ${shown}${messages.length > 3 ? ` (+${messages.length - 3} more)` : ''}`, schema_version: schemaVersion };
  }
  const hasEvents = db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name IN ('events', 'chain_head')").get() as { n: number };
  if (Number(hasEvents.n) !== 2) return { ok: false, failed: 'chain', problem: 'not an MCM event log (no events/chain_head tables)', schema_version: schemaVersion };
  const chain = verifyChain(db);
  if (!chain.ok) return { ok: false, failed: 'chain', problem: `hash chain broken at seq ${chain.first_bad_seq}: ${chain.reason}: ${chain.detail}`, schema_version: schemaVersion };
  return { ok: true, seq: chain.head, head_hash: chain.head_hash, count: chain.count, schema_version: schemaVersion };
};
