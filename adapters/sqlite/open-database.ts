/**
 * Opens `<data dir>/mcm.db` (DESIGN §4) with the durability the event log promises, then migrates.
 */
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { migrate } from './schema.ts';

const isMemory = (path: string): boolean => path === ':memory:' || path === '';

/**
 * Creates the parent directory (0700: the database holds password hashes) and the file (0600)
 * when missing, opens it, sets the pragmas, and applies pending migrations. `:memory:` is allowed
 * for tests.
 */
export const openDatabase = (path: string): DatabaseSync => {
  if (!isMemory(path)) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    // Create the file ourselves so it is born 0600; SQLite would use 0644 under the usual umask,
    // and gives the -wal/-shm files the same mode as the database file.
    closeSync(openSync(path, 'a', 0o600));
  }
  const db = new DatabaseSync(path);
  try {
    // busy_timeout first, so the journal-mode switch and migrations wait for another opener.
    db.exec('PRAGMA busy_timeout = 5000');
    db.exec('PRAGMA journal_mode = WAL');
    // FULL: in WAL mode, NORMAL can lose the last commits on power loss; an acknowledged event must not.
    db.exec('PRAGMA synchronous = FULL');
    db.exec('PRAGMA foreign_keys = ON');
    migrate(db);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
};
