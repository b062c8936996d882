/**
 * The API-token panel's data (issue 17): the rows of GET /tokens, the create form's checks (the
 * server's rules, so the form says what is wrong before sending) and how a row reads. Pure
 * functions, tested under node:test (tests/ui/token-model.test.ts).
 */
import type { TokenView } from '../../projections/api-token-view.ts';
import { ADMIN_ROLES, type AdminRole } from './roles.ts';

/** GET /tokens item: the server's view (projections/api-token-view.ts). */
export type ApiTokenRow = TokenView;

/** POST /tokens answer: the row and the token string, shown once. */
export type CreatedApiToken = ApiTokenRow & { token: string };

export type TokenForm = { name: string; role: AdminRole; expires: string };

/** The expiry choices the form offers ('' = never), as the API's durations. */
export const EXPIRY_CHOICES: readonly { value: string; label: string }[] = [
  { value: '30d', label: '30 days' },
  { value: '90d', label: '90 days' },
  { value: '365d', label: '1 year' },
  { value: '', label: 'Never' },
];

export const TOKEN_NAME_MAX = 64;

/** Roles a token of this user may get: none above their own. */
export const grantableRoles = (mine: AdminRole | null): AdminRole[] =>
  mine === null ? [] : ADMIN_ROLES.slice(0, ADMIN_ROLES.indexOf(mine) + 1);

/** Why the name can't be a token name (the server's rule), or null. */
export const tokenNameProblem = (name: string, taken: readonly string[]): string | null => {
  if (name === '') return 'Give the token a name, e.g. ci-deploy.';
  if (name.length > TOKEN_NAME_MAX) return `At most ${TOKEN_NAME_MAX} characters.`;
  if (!/^[A-Za-z0-9._-]+$/.test(name)) return 'Only letters, digits, ".", "_" and "-".';
  if (name === '.' || name === '..') return 'Not "." or "..".';
  if (taken.includes(name)) return 'A token of this name exists: revoke it first or choose another name.';
  return null;
};

/** The create request's body. */
export const createBody = (f: TokenForm): { name: string; role: AdminRole; expires: string | null } =>
  ({ name: f.name.trim(), role: f.role, expires: f.expires === '' ? null : f.expires });

/** "operator", or "operator (acts as viewer)" when its creator was demoted. */
export const roleText = (t: ApiTokenRow): string =>
  t.effective_role !== null && t.effective_role !== t.role ? `${t.role} (acts as ${t.effective_role})` : t.role;

export const statusText = (t: ApiTokenRow): string =>
  t.status === 'active' ? 'active' : t.status === 'expired' ? 'expired' : 'suspended: its creator is disabled';

export const lastUseText = (t: ApiTokenRow, format: (iso: string) => string): string =>
  t.last_used_at === null ? 'never' : `${format(t.last_used_at)}${t.last_used_ip ? ` from ${t.last_used_ip}` : ''}`;
