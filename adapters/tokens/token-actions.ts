/**
 * Creating, listing and revoking API tokens (issue 17): the one path the HTTP routes and the CLI
 * on the data dir both take. The token is drawn and hashed here (the adapter's randomness and
 * key), decided and appended by handleCommand; its string is returned once and never stored.
 */
import { DomainError, ERROR_CODES } from '../../core/errors.ts';
import type { Actor } from '../../core/events.ts';
import { handleCommand, type CommandResult } from '../../core/handle-command.ts';
import type { Clock, EventStore } from '../../core/ports.ts';
import { own } from '../../core/evolve/records.ts';
import { tokenView, type TokenView } from '../../projections/api-token-view.ts';
import type { MintedToken } from '../http/auth/api-tokens.ts';

export type CreatedToken = TokenView & { token: string };

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
  /**
   * The admin user the new token belongs to: decide refuses a role above this user's (and the
   * token is capped at it later). Null: the local CLI, admin on its host.
   */
  owner: string | null;
}>;

export type TokenActionDeps = Readonly<{ store: EventStore; clock: Clock; mint: () => MintedToken }>;

export const createToken = (
  deps: TokenActionDeps,
  input: Readonly<{ name: string; role: string; expires?: string | null }>,
  caller: TokenCaller,
): { created: CreatedToken; result: CommandResult } => {
  const { store, clock } = deps;
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
