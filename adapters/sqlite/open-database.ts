/**
 * Opens `<data dir>/mcm.db` (DESIGN §4) with the durability the event log promises, then migrates.
 */
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { migrate } from './schema.ts';

const isMemory = (path: string): boolean => path === ':memory:' || path === '';

/** How long opening (journal-mode switch, migrations) waits for another process's lock. */
export const OPEN_BUSY_TIMEOUT_MS = 5000;

/**
 * The server's busy_timeout once open. DatabaseSync waits for a lock synchronously, so while it
 * waits the whole process stands still: HTTP, ws heartbeats, the observer, probes. A second is
 * enough to ride out another process's short write (SQLite's own transactions take
 * milliseconds), short enough that a stuck lock costs each write one second, after which it is
 * refused with MCM_ERR_STORAGE_BUSY (503 + Retry-After) instead of freezing MCM for long.
 */
export const SERVER_BUSY_TIMEOUT_MS = 1000;

export type OpenDatabaseOptions = Readonly<{
  /** busy_timeout after opening (ms); default OPEN_BUSY_TIMEOUT_MS (CLI tools may wait longer). */
  busyTimeoutMs?: number;
}>;

/**
 * Creates the parent directory (0700: the database holds password hashes) and the file (0600)
 * when missing, opens it, sets the pragmas, and applies pending migrations. `:memory:` is allowed
 * for tests.
 */
export const openDatabase = (path: string, opts: OpenDatabaseOptions = {}): DatabaseSync => {
  if (!isMemory(path)) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    // Create the file ourselves so it is born 0600; SQLite would use 0644 under the usual umask,
    // and gives the -wal/-shm files the same mode as the database file.
    closeSync(openSync(path, 'a', 0o600));
  }
  const db = new DatabaseSync(path);
  try {
    // busy_timeout first, so the journal-mode switch and migrations wait for another opener.
    db.exec(`PRAGMA busy_timeout = ${OPEN_BUSY_TIMEOUT_MS}`);
    db.exec('PRAGMA journal_mode = WAL');
    // FULL: in WAL mode, NORMAL can lose the last commits on power loss; an acknowledged event must not.
    db.exec('PRAGMA synchronous = FULL');
    db.exec('PRAGMA foreign_keys = ON');
    migrate(db);
    const busy = opts.busyTimeoutMs ?? OPEN_BUSY_TIMEOUT_MS;
    if (!Number.isSafeInteger(busy) || busy < 0) throw new Error(`busyTimeoutMs must be an integer >= 0, got ${busy}`);
    if (busy !== OPEN_BUSY_TIMEOUT_MS) db.exec(`PRAGMA busy_timeout = ${busy}`);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
};
