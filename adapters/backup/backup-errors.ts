/**
 * Stable codes for backup and restore failures. They are DomainErrors so the CLI reports them as
 * `mcm: <CODE>: <message>` with exit status 1, like every other refused operation. They never
 * reach the HTTP API, so they live here rather than in core/errors.ts. A restore under a running
 * server is refused with adapters/cli/server-lock.ts's MCM_ERR_SERVER_RUNNING.
 */
import { DomainError, type ErrorDetail } from '../../core/errors.ts';

export const BACKUP_ERROR_CODES = {
  /** The archive is unreadable, not an MCM backup, or does not match its manifest. */
  INVALID: 'MCM_ERR_BACKUP_INVALID',
  /** The database in the archive fails `PRAGMA integrity_check` or the hash chain. */
  CORRUPT: 'MCM_ERR_BACKUP_CORRUPT',
  /** The data dir already holds a database and --force was not given. */
  TARGET_EXISTS: 'MCM_ERR_RESTORE_TARGET_EXISTS',
  /** The output file exists and --force was not given, or the data dir has no database to back up. */
  OUTPUT_EXISTS: 'MCM_ERR_BACKUP_OUTPUT_EXISTS',
  NO_DATABASE: 'MCM_ERR_NO_DATABASE',
} as const;

export const backupError = (code: (typeof BACKUP_ERROR_CODES)[keyof typeof BACKUP_ERROR_CODES], message: string, details: readonly ErrorDetail[] = []): DomainError =>
  new DomainError(code, message, details);
