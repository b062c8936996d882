/**
 * What an API token may do now, and how it is listed (issue 17). Pure: the time and the last use
 * come in as data. The role is capped at the creator's current role (a demoted creator's tokens
 * are capped with them, not revoked); an expired token, or one whose creator is gone or
 * disabled, can't be used. The same view is the API's answer, the CLI's list and the UI's rows.
 */
import { byCodeUnit, own } from '../core/evolve/records.ts';
import { ADMIN_ROLES, type AdminRole, type ApiToken, type BrokerConfig } from '../core/state.ts';

/** When and from where a token was last used (kept outside the event log). */
export type TokenUse = Readonly<{ at: string; ip: string }>;

export type TokenStanding =
  | { ok: true; role: AdminRole }
  | { ok: false; reason: 'expired' | 'revoked'; message: string };

const lower = (a: AdminRole, b: AdminRole): AdminRole => (ADMIN_ROLES.indexOf(a) <= ADMIN_ROLES.indexOf(b) ? a : b);

export const tokenStanding = (state: BrokerConfig, token: ApiToken, nowMs: number): TokenStanding => {
  if (token.expiresAt !== null && Date.parse(token.expiresAt) <= nowMs) {
    return { ok: false, reason: 'expired', message: `API token "${token.name}" expired at ${token.expiresAt}` };
  }
  if (token.owner === null) return { ok: true, role: token.role };
  const owner = own(state.adminUsers, token.owner);
  if (!owner) return { ok: false, reason: 'revoked', message: `API token "${token.name}" refused: its creator no longer exists` };
  if (owner.disabled) return { ok: false, reason: 'revoked', message: `API token "${token.name}" refused: its creator, admin user "${owner.username}", is disabled` };
  return { ok: true, role: lower(token.role, owner.role) };
};

export type TokenView = {
  name: string;
  /** The role it was created with. */
  role: AdminRole;
  /** What it may do now: its role capped at its creator's current role; null when it can't be used. */
  effective_role: AdminRole | null;
  /** The admin user who created it (null: the local CLI). */
  owner: string | null;
  created_at: string;
  expires_at: string | null;
  /** `active`, `expired`, or `suspended` (its creator is disabled or gone). */
  status: 'active' | 'expired' | 'suspended';
  last_used_at: string | null;
  last_used_ip: string | null;
};

export const tokenView = (state: BrokerConfig, t: ApiToken, nowMs: number, lastUse: TokenUse | null): TokenView => {
  const standing = tokenStanding(state, t, nowMs);
  return {
    name: t.name,
    role: t.role,
    effective_role: standing.ok ? standing.role : null,
    owner: t.owner,
    created_at: t.createdAt,
    expires_at: t.expiresAt,
    status: standing.ok ? 'active' : standing.reason === 'expired' ? 'expired' : 'suspended',
    last_used_at: lastUse?.at ?? null,
    last_used_ip: lastUse?.ip ?? null,
  };
};

/** Tokens sorted by name; `owner` given: only that admin user's. */
export const listTokens = (
  state: BrokerConfig, nowMs: number, lastUse: (tokenId: string) => TokenUse | null, owner?: string,
): TokenView[] => Object.values(state.apiTokens ?? {})
  .filter((t) => owner === undefined || t.owner === owner)
  .sort((a, b) => byCodeUnit(a.name, b.name))
  .map((t) => tokenView(state, t, nowMs, lastUse(t.tokenId)));
