/** Deciding API tokens (issue 17): given(events).when(command).then(events). */
import { describe, it } from 'node:test';
import type { DomainEvent } from '../../core/events.ts';
import { ev, given } from '../helpers/decider-spec.ts';

const HASH = `hmac-sha256$${'a'.repeat(64)}`;
const create = (over: Record<string, unknown> = {}) => ({
  type: 'CreateApiToken' as const,
  data: { name: 'ci', tokenId: '0123456789abcdef', secretHash: HASH, role: 'operator', owner: 'ann', expiresAt: null, ...over },
});
const created = (over: Record<string, unknown> = {}): DomainEvent => ({
  type: 'ApiTokenCreated',
  data: { name: 'ci', tokenId: '0123456789abcdef', secretHash: HASH, role: 'operator', owner: 'ann', expiresAt: null, ...over },
} as DomainEvent);

describe('decide: API tokens', () => {
  it('creates a token for an admin user at or below their role, with or without an expiry', () => {
    given([ev.adminCreated('ann', 'operator')]).when(create()).then([created()]);
    given([ev.adminCreated('ann', 'operator')]).when(create({ role: 'viewer', expiresAt: '2027-01-01T00:00:00.000Z' }))
      .then([created({ role: 'viewer', expiresAt: '2027-01-01T00:00:00.000Z' })]);
    // The local CLI (owner null) is admin on its host.
    given([]).when(create({ owner: null, role: 'admin' })).then([created({ owner: null, role: 'admin' })]);
  });

  it('refuses a role above the creator\'s, a creator who is gone or disabled, and a name in use', () => {
    given([ev.adminCreated('ann', 'operator')]).when(create({ role: 'admin' })).thenThrows('MCM_ERR_TOKEN_ROLE_TOO_HIGH');
    given([]).when(create()).thenThrows('MCM_ERR_ADMIN_USER_NOT_FOUND');
    given([ev.adminCreated('ann', 'operator'), ev.adminCreated('root'), { type: 'AdminUserDisabled', data: { username: 'ann' } }])
      .when(create()).thenThrows('MCM_ERR_ADMIN_USER_NOT_FOUND');
    given([ev.adminCreated('ann', 'operator'), created()]).when(create({ tokenId: 'ffffffffffffffff' })).thenThrows('MCM_ERR_TOKEN_EXISTS');
  });

  it('refuses malformed input with a stable code', () => {
    const g = given([ev.adminCreated('ann', 'operator')]);
    g.when(create({ name: 'has space' })).thenThrows('MCM_ERR_TOKEN_NAME_INVALID');
    g.when(create({ name: '__proto__', role: 'boss' })).thenThrows('MCM_ERR_ADMIN_ROLE_INVALID');
    g.when(create({ tokenId: 'XYZ' })).thenThrows('MCM_ERR_VALIDATION');
    g.when(create({ secretHash: 'plaintext-secret' })).thenThrows('MCM_ERR_VALIDATION');
    g.when(create({ expiresAt: 'tomorrow' })).thenThrows('MCM_ERR_VALIDATION');
    given([ev.adminCreated('ann', 'operator'), created()]).when(create({ name: 'other' })).thenThrows('MCM_ERR_VALIDATION');
  });

  it('revokes a token; an unknown one is MCM_ERR_TOKEN_NOT_FOUND', () => {
    given([ev.adminCreated('ann', 'operator'), created()]).when({ type: 'RevokeApiToken', data: { name: 'ci' } })
      .then([{ type: 'ApiTokenRevoked', data: { name: 'ci', reason: 'revoked' } }]);
    given([]).when({ type: 'RevokeApiToken', data: { name: 'ci' } }).thenThrows('MCM_ERR_TOKEN_NOT_FOUND');
    given([]).when({ type: 'RevokeApiToken', data: { name: 'constructor' } }).thenThrows('MCM_ERR_TOKEN_NOT_FOUND');
  });

  it('deleting an admin user revokes their tokens first, and only theirs', () => {
    given([ev.adminCreated('root'), ev.adminCreated('ann', 'operator'), created(), created({ name: 'cli-made', tokenId: '1111111111111111', owner: null })])
      .when({ type: 'DeleteAdminUser', data: { username: 'ann' } })
      .then([
        { type: 'ApiTokenRevoked', data: { name: 'ci', reason: 'its creator, admin user "ann", was deleted' } },
        { type: 'AdminUserDeleted', data: { username: 'ann' } },
      ]);
  });
});
