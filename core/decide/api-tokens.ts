/**
 * Deciding API-token commands (issue 17). The adapter draws the token's id and secret and hashes
 * the secret with its key; decide checks shapes and the rules: unique names, a role no higher
 * than the creator's (an admin user's current role; the local CLI is admin on its host), and an
 * owner who still exists and is enabled.
 */
import type { CommandOf } from '../commands.ts';
import { DomainError, ERROR_CODES } from '../errors.ts';
import type { DomainEvent } from '../events.ts';
import { assertApiTokenName } from '../names.ts';
import { ADMIN_ROLES, type ApiToken, type BrokerConfig } from '../state.ts';
import { assertAdminRole } from './admin-users.ts';
import { own, show } from './guards.ts';

/** The public part of the token string: 16 hex digits. */
export const API_TOKEN_ID = /^[0-9a-f]{16}$/;
const SECRET_HASH = /^hmac-sha256\$[0-9a-f]{64}$/;
/** A UTC timestamp as the adapters write them (Date#toISOString). */
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;

const rank = (role: string): number => (ADMIN_ROLES as readonly string[]).indexOf(role);

const invalid = (field: string, message: string): DomainError => new DomainError(ERROR_CODES.VALIDATION, message, [{ field }]);

export const requireApiToken = (state: BrokerConfig, name: unknown): ApiToken => {
  const token = typeof name === 'string' ? own(state.apiTokens ?? {}, name) : undefined;
  if (!token) throw new DomainError(ERROR_CODES.TOKEN_NOT_FOUND, `API token ${show(name)} does not exist`, [{ name }]);
  return token;
};

export const createApiToken = (c: CommandOf<'CreateApiToken'>, state: BrokerConfig): DomainEvent[] => {
  const name = assertApiTokenName(c.data.name);
  const role = assertAdminRole(c.data.role);
  const { tokenId, secretHash, owner, expiresAt } = c.data;
  if (typeof tokenId !== 'string' || !API_TOKEN_ID.test(tokenId)) throw invalid('tokenId', 'tokenId must be 16 hex digits');
  if (typeof secretHash !== 'string' || !SECRET_HASH.test(secretHash)) throw invalid('secretHash', 'secretHash must be a keyed hash (hmac-sha256$<hex>)');
  if (expiresAt !== null && (typeof expiresAt !== 'string' || !ISO_UTC.test(expiresAt) || Number.isNaN(Date.parse(expiresAt)))) {
    throw invalid('expiresAt', 'expiresAt must be a UTC timestamp (YYYY-MM-DDTHH:MM:SSZ) or null');
  }
  if (own(state.apiTokens ?? {}, name)) {
    throw new DomainError(ERROR_CODES.TOKEN_EXISTS, `API token "${name}" already exists; revoke it first or choose another name`, [{ name }]);
  }
  if (Object.values(state.apiTokens ?? {}).some((t) => t.tokenId === tokenId)) throw invalid('tokenId', 'tokenId is already in use');
  if (owner !== null) {
    const creator = typeof owner === 'string' ? own(state.adminUsers, owner) : undefined;
    if (!creator || creator.disabled) {
      throw new DomainError(ERROR_CODES.ADMIN_USER_NOT_FOUND, `admin user ${show(owner)} does not exist or is disabled and cannot create tokens`, [{ owner }]);
    }
    if (rank(role) > rank(creator.role)) {
      throw new DomainError(ERROR_CODES.TOKEN_ROLE_TOO_HIGH, `a token can't have a higher role than its creator: "${creator.username}" is ${creator.role}, the token asks for ${role}`, [
        { field: 'role', value: role, max: creator.role },
      ]);
    }
  }
  return [{ type: 'ApiTokenCreated', data: { name, tokenId, secretHash, role, owner, expiresAt } }];
};

export const revokeApiToken = (c: CommandOf<'RevokeApiToken'>, state: BrokerConfig): DomainEvent[] => {
  const token = requireApiToken(state, c.data.name);
  return [{ type: 'ApiTokenRevoked', data: { name: token.name, reason: 'revoked' } }];
};

/** A deleted admin user's tokens go with them: a later user of the same name must not inherit them. */
export const revokeTokensOf = (state: BrokerConfig, username: string): DomainEvent[] =>
  Object.values(state.apiTokens ?? {})
    .filter((t) => t.owner === username)
    .map((t) => ({ type: 'ApiTokenRevoked', data: { name: t.name, reason: `its creator, admin user "${username}", was deleted` } }));
