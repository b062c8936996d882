/**
 * Creating, listing and revoking API tokens (issue 17): the one path the HTTP routes and the CLI
 * on the data dir both take. The token is drawn and hashed here (the adapter's randomness and
 * key), decided and appended by handleCommand; its string is returned once and never stored.
 */
import { DomainError, ERROR_CODES } from '../../core/errors.ts';
import type { Actor } from '../../core/events.ts';
import { handleCommand, type CommandResult } from '../../core/handle-command.ts';
import type { Clock, EventStore } from '../../core/ports.ts';
import { ADMIN_ROLES, type AdminRole, type ApiToken, type BrokerConfig } from '../../core/state.ts';
import { byCodeUnit, own } from '../../core/evolve/records.ts';
import { tokenStanding, type MintedToken } from '../http/auth/api-tokens.ts';
import type { TokenUse } from '../sqlite/api-token-usage.ts';

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

export type CreatedToken = TokenView & { token: string };

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

const UNIT_MS: Readonly<Record<string, number>> = { m: 60_000, h: 3_600_000, d: 86_400_000 };
/** At most ten years: a longer "expiry" is no expiry and should say so (null). */
const MAX_EXPIRY_MS = 3650 * 86_400_000;

/** `90d`, `12h`, `30m` → milliseconds; anything else is MCM_ERR_VALIDATION naming the field. */
export const parseExpiry = (raw: string, field = 'expires'): number => {
  const m = /^([1-9]\d{0,5})([mhd])$/.exec(raw.trim());
  const ms = m ? Number(m[1]) * UNIT_MS[m[2]!]! : NaN;
  if (!Number.isFinite(ms) || ms > MAX_EXPIRY_MS) {
    throw new DomainError(ERROR_CODES.VALIDATION, `${field} must be a duration such as 90d, 12h or 30m (at most 3650d), got ${JSON.stringify(raw.slice(0, 40))}`, [
      { field, value: raw.slice(0, 40) },
    ]);
  }
  return ms;
};

export type TokenCaller = Readonly<{
  actor: Actor;
  /** The admin user the new token belongs to (its role caps the token); null: the local CLI. */
  owner: string | null;
  /** The caller's own role now: a token never gets more. */
  role: AdminRole;
}>;

export type TokenActionDeps = Readonly<{ store: EventStore; clock: Clock; mint: () => MintedToken }>;

export const createToken = (
  deps: TokenActionDeps,
  input: Readonly<{ name: string; role: string; expires?: string | null }>,
  caller: TokenCaller,
): { created: CreatedToken; result: CommandResult } => {
  const { store, clock } = deps;
  if ((ADMIN_ROLES as readonly string[]).includes(input.role) && ADMIN_ROLES.indexOf(input.role as AdminRole) > ADMIN_ROLES.indexOf(caller.role)) {
    throw new DomainError(ERROR_CODES.TOKEN_ROLE_TOO_HIGH, `a token can't have a higher role than its creator (you are ${caller.role}, the token asks for ${input.role})`, [
      { field: 'role', value: input.role, max: caller.role },
    ]);
  }
  const nowMs = Date.parse(clock.now());
  const expiresAt = input.expires === undefined || input.expires === null ? null : new Date(nowMs + parseExpiry(input.expires)).toISOString();
  const minted = deps.mint();
  const result = handleCommand({ store, clock }, {
    type: 'CreateApiToken',
    data: { name: input.name, tokenId: minted.tokenId, secretHash: minted.secretHash, role: input.role, owner: caller.owner, expiresAt },
  }, { actor: caller.actor });
  const state = store.state();
  const record = own(state.apiTokens ?? {}, input.name);
  if (!record) throw new Error('the created token is not in the state');
  return { created: { ...tokenView(state, record, nowMs, null), token: minted.token }, result };
};

export const revokeToken = (deps: Pick<TokenActionDeps, 'store' | 'clock'>, name: string, actor: Actor): CommandResult =>
  handleCommand({ store: deps.store, clock: deps.clock }, { type: 'RevokeApiToken', data: { name } }, { actor });
