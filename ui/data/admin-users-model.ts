/**
 * The admin users screen's data (DESIGN §5, §8-9): the rules a create or reset form can check
 * while typing (the server checks them again and has the last word), and which changes end a
 * session. Mirrors core/names.ts (admin usernames) and adapters/http/auth/password-policy.ts;
 * tests/ui/admin-users-model.test.ts compares them on many inputs.
 */
import type { AdminRole } from './roles.ts';

export type AdminUser = { username: string; role: AdminRole; disabled: boolean; mfa_enabled?: boolean; created_at?: string; updated_at?: string };

export const ADMIN_USERNAME_MAX = 64;
export const ADMIN_PASSWORD_MIN_CHARS = 12;
export const ADMIN_PASSWORD_MAX_BYTES = 72;

export const adminUsernameProblem = (name: string): string | null => {
  if (name.length === 0) return 'admin username must not be empty';
  if (name.length > ADMIN_USERNAME_MAX) return `admin username must be at most ${ADMIN_USERNAME_MAX} characters (got ${name.length})`;
  if (!/^[A-Za-z0-9._@-]+$/.test(name)) return 'admin username may contain only letters, digits, ".", "_", "@" and "-"';
  if (name === '.' || name === '..') return 'admin username must not be "." or ".."';
  return null;
};

export const adminPasswordProblem = (password: string): string | null => {
  const chars = [...password].length;
  if (chars < ADMIN_PASSWORD_MIN_CHARS) return `admin passwords must be at least ${ADMIN_PASSWORD_MIN_CHARS} characters long (got ${chars})`;
  if (new TextEncoder().encode(password).length > ADMIN_PASSWORD_MAX_BYTES) {
    return `admin passwords must be at most ${ADMIN_PASSWORD_MAX_BYTES} bytes in UTF-8 (bcrypt ignores the rest)`;
  }
  if (password.includes('\0')) return 'admin passwords must not contain NUL characters';
  return null;
};

/** Admins that are not disabled: the server refuses to remove, disable or demote the last one. */
export const activeAdminCount = (users: readonly AdminUser[]): number =>
  users.filter((u) => u.role === 'admin' && !u.disabled).length;

/** Whether a change would leave no active admin (a hint; the server refuses with MCM_ERR_LAST_ADMIN). */
export const removesLastAdmin = (users: readonly AdminUser[], target: AdminUser, change: { role?: AdminRole; disabled?: boolean; deleted?: boolean }): boolean => {
  if (target.role !== 'admin' || target.disabled) return false;
  const losesAdmin = change.deleted === true || change.disabled === true || (change.role !== undefined && change.role !== 'admin');
  return losesAdmin && activeAdminCount(users) <= 1;
};

/** Role, password and disabled changes bump the user's token version: their sessions end (DESIGN §9). */
export const endsSessionsOf = (change: { role?: AdminRole; disabled?: boolean; password?: string; deleted?: boolean }): boolean =>
  change.role !== undefined || change.disabled !== undefined || change.password !== undefined || change.deleted === true;

export const byUsername = (a: AdminUser, b: AdminUser): number => (a.username < b.username ? -1 : a.username > b.username ? 1 : 0);

/** The list with one user replaced (after a PUT) or added (after a POST), kept sorted. */
export const upsertUser = (users: readonly AdminUser[], user: AdminUser): AdminUser[] =>
  [...users.filter((u) => u.username !== user.username), user].sort(byUsername);
