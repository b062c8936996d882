/**
 * Admin password rules, checked before hashing (the core only ever sees bcrypt hashes).
 * At least 12 characters (the minimum for admin passwords); at most 72 bytes, because
 * bcrypt silently ignores everything after the 72nd byte; no NUL, which the bcrypt binding reads
 * as the end of the string. The message says which rule failed.
 */
import { HTTP_ERROR_CODES, HttpError } from '../errors.ts';

export const ADMIN_PASSWORD_MIN_CHARS = 12;
export const ADMIN_PASSWORD_MAX_BYTES = 72;

export const adminPasswordProblem = (password: string): string | null => {
  const chars = [...password].length;
  if (chars < ADMIN_PASSWORD_MIN_CHARS) {
    return `admin passwords must be at least ${ADMIN_PASSWORD_MIN_CHARS} characters long (got ${chars})`;
  }
  if (Buffer.byteLength(password, 'utf8') > ADMIN_PASSWORD_MAX_BYTES) {
    return `admin passwords must be at most ${ADMIN_PASSWORD_MAX_BYTES} bytes in UTF-8 (bcrypt ignores the rest)`;
  }
  if (password.includes('\0')) return 'admin passwords must not contain NUL characters';
  return null;
};

/** Throws 400 MCM_ERR_PASSWORD_POLICY naming the rule. */
export const assertAdminPassword = (password: string, field = 'password'): void => {
  const problem = adminPasswordProblem(password);
  if (problem) throw new HttpError(400, HTTP_ERROR_CODES.PASSWORD_POLICY, problem, [{ field, rule: problem }]);
};
