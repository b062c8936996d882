/**
 * API tokens (issue 17): long-lived bearer credentials for scripts and CI, `mcmt_<id>_<secret>`.
 * The id (16 hex digits) finds the record; the secret (32 random bytes, base64url) is checked
 * against its keyed hash (HMAC-SHA256 with secrets/api-token.key, never in the log), so a copy of
 * the database alone gives nothing to guess offline. Every request checks the current state:
 * revoked (gone), expired, an owner deleted or disabled → refused; the role is capped at the
 * owner's current role (a demoted creator's tokens are capped with them, not revoked).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../../../core/ports.ts';
import { own } from '../../../core/evolve/records.ts';
import type { BrokerConfig } from '../../../core/state.ts';
import { tokenStanding, type TokenUse } from '../../../projections/api-token-view.ts';
import type { SecretStore } from '../../secrets/secret-store.ts';
import type { ApiTokenUsage } from '../../sqlite/api-token-usage.ts';
import type { Authentication } from './authenticate.ts';

export const API_TOKEN_KEY_NAME = 'api-token.key';
/** Tells an API token from a session JWT and a CLI token in the same Authorization header. */
export const API_TOKEN_PREFIX = 'mcmt_';
const TOKEN = /^mcmt_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;
const KEYED_PREFIX = 'hmac-sha256$';

export type MintedToken = Readonly<{ token: string; tokenId: string; secretHash: string }>;

export const apiTokenKeyOf = (secrets: Pick<SecretStore, 'getOrCreate'>): Buffer => secrets.getOrCreate(API_TOKEN_KEY_NAME, () => randomBytes(32));

const keyedHash = (key: Buffer, tokenId: string, secret: string): string =>
  `${KEYED_PREFIX}${createHmac('sha256', key).update(`${tokenId}.${secret}`, 'utf8').digest('hex')}`;

/** A fresh token: the string is shown once; only `secretHash` is kept. */
export const mintApiToken = (key: Buffer): MintedToken => {
  const tokenId = randomBytes(8).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  return { token: `${API_TOKEN_PREFIX}${tokenId}_${secret}`, tokenId, secretHash: keyedHash(key, tokenId, secret) };
};

export type ApiTokenService = {
  /** The token string's check: null when `raw` is no API token at all (a JWT, say). */
  authenticate(state: BrokerConfig, raw: string): Authentication | null;
  /** Records a use of the token named `name` (throttled, see sqlite/api-token-usage.ts). */
  used(state: BrokerConfig, name: string, ip: string): void;
  lastUse(tokenId: string): TokenUse | null;
  mint(): MintedToken;
};

export const createApiTokenService = (deps: Readonly<{ key: Buffer; clock: Clock; usage: ApiTokenUsage }>): ApiTokenService => {
  const { key, clock, usage } = deps;
  return {
    authenticate: (state, raw) => {
      if (!raw.startsWith(API_TOKEN_PREFIX)) return null;
      const m = TOKEN.exec(raw);
      const tokenId = m?.[1];
      const secret = m?.[2];
      const invalid = { ok: false as const, reason: 'invalid' as const, message: 'invalid API token' };
      if (tokenId === undefined || secret === undefined) return invalid;
      const token = Object.values(state.apiTokens ?? {}).find((t) => t.tokenId === tokenId);
      // Unknown and revoked look alike: a revoked token's record is gone.
      if (!token) return { ok: false, reason: 'revoked', message: 'API token revoked or unknown' };
      const want = Buffer.from(token.secretHash, 'utf8');
      const got = Buffer.from(keyedHash(key, tokenId, secret), 'utf8');
      if (want.length !== got.length || !timingSafeEqual(want, got)) return invalid;
      const standing = tokenStanding(state, token, Date.parse(clock.now()));
      if (!standing.ok) return { ...standing, username: `token:${token.name}` };
      return { ok: true, admin: { username: `token:${token.name}`, role: standing.role, token: token.name } };
    },
    used: (state, name, ip) => {
      const tokenId = own(state.apiTokens ?? {}, name)?.tokenId;
      if (tokenId === undefined) return;
      const at = clock.now();
      // Best effort: a busy or full database must not fail a request the token may make (a
      // read while the CLI holds the write lock); the next use records it again.
      try {
        usage.record(tokenId, { at, ip }, Date.parse(at));
      } catch { /* see above */ }
    },
    lastUse: (tokenId) => usage.lastUse(tokenId),
    mint: () => mintApiToken(key),
  };
};
