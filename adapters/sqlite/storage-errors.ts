/**
 * Storage failures an operator must be able to tell apart from bugs: a full disk and a database
 * locked by another process. node:sqlite throws `Error {code: 'ERR_SQLITE_ERROR', errcode,
 * errstr}` where errcode is SQLite's (extended) result code; fs calls throw ENOSPC/EDQUOT. Both
 * become DomainErrors with stable codes (core/errors.ts), so HTTP answers 507 / 503 + Retry-After
 * and the CLI prints a message instead of a stack (DESIGN §9: never a 500 for a known condition).
 */
import { DomainError, ERROR_CODES } from '../../core/errors.ts';

// https://sqlite.org/rescode.html — the primary code is the low byte of an extended code.
const SQLITE_BUSY = 5;
const SQLITE_LOCKED = 6;
const SQLITE_FULL = 13;

type SqliteError = Error & { code: 'ERR_SQLITE_ERROR'; errcode: number; errstr?: string };

const isSqliteError = (e: unknown): e is SqliteError =>
  e instanceof Error && (e as { code?: unknown }).code === 'ERR_SQLITE_ERROR' && typeof (e as { errcode?: unknown }).errcode === 'number';

const errnoOf = (e: unknown): string | undefined =>
  e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string' ? (e as NodeJS.ErrnoException).code : undefined;

/** Seconds a client should wait before retrying a write refused with MCM_ERR_STORAGE_BUSY. */
export const STORAGE_BUSY_RETRY_AFTER_S = 1;

/**
 * The DomainError for a full disk or a locked database, or null for anything else (including
 * errors that already are DomainErrors). `what` names the store in the message ("the event log").
 */
export const storageErrorOf = (err: unknown, what = 'the database'): DomainError | null => {
  if (isSqliteError(err)) {
    const primary = err.errcode & 0xff;
    if (primary === SQLITE_FULL) return storageFull(what, err.errstr ?? err.message);
    if (primary === SQLITE_BUSY || primary === SQLITE_LOCKED) {
      return new DomainError(ERROR_CODES.STORAGE_BUSY,
        `${what} is locked by another process (${err.errstr ?? err.message}); nothing was changed: retry in a moment`,
        [{ sqlite_code: err.errcode, retry_after_s: STORAGE_BUSY_RETRY_AFTER_S }]);
    }
    return null;
  }
  const errno = errnoOf(err);
  if (errno === 'ENOSPC' || errno === 'EDQUOT') return storageFull(what, errno);
  return null;
};

const storageFull = (what: string, cause: string): DomainError =>
  new DomainError(ERROR_CODES.STORAGE_FULL,
    `${what} cannot be written: the disk of the data dir is full (${cause}); nothing was changed: free space on it and retry`,
    [{ cause }]);

/** `fn()`, with a full disk or a locked database rethrown as its DomainError. */
export const withStorageErrors = <T>(what: string, fn: () => T): T => {
  try {
    return fn();
  } catch (e) {
    throw storageErrorOf(e, what) ?? e;
  }
};
