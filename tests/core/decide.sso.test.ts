/**
 * Deciding single sign-on (issue 17): the (issuer, subject) pair finds the user whatever the
 * provider calls it now; a first sign-in links a local user of that name or creates one (when
 * allowed) without a password; the groups' role is set at every sign-in, under the last-admin rule.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Command } from '../../core/commands.ts';
import type { DomainEvent } from '../../core/events.ts';
import { fold } from '../../core/evolve.ts';
import { ev, given, record } from '../helpers/decider-spec.ts';

const ISS = 'https://idp.example/realms/plant';
const sso = (username: string, role: string, o: { subject?: string; createUsers?: boolean } = {}): Command => ({
  type: 'SignInWithSso', data: { username, issuer: ISS, subject: o.subject ?? `sub-${username}`, role, createUsers: o.createUsers ?? true },
});
const created = (username: string, role: 'viewer' | 'auditor' | 'operator' | 'admin', subject = `sub-${username}`): DomainEvent =>
  ({ type: 'SsoAdminUserCreated', data: { username, role, issuer: ISS, subject } });

describe('decide: SignInWithSso', () => {
  it('creates an unknown user with the role its groups map to, linked to the provider account', () => {
    given([ev.adminCreated('root')]).when(sso('alice', 'operator')).then([created('alice', 'operator')]);
  });

  it('the created user has no local password and is found again by its subject', () => {
    const s = fold(record([ev.adminCreated('root'), created('alice', 'operator')]));
    assert.equal(s.adminUsers['alice']?.passwordHash, '');
    assert.deepEqual(s.adminUsers['alice']?.sso, { issuer: ISS, subject: 'sub-alice' });
  });

  it('re-evaluates the role at every sign-in: a changed mapping changes the role, the same one records nothing', () => {
    const g = given([ev.adminCreated('root'), created('alice', 'operator')]);
    g.when(sso('alice', 'auditor')).then([{ type: 'AdminUserRoleChanged', data: { username: 'alice', role: 'auditor' } }]);
    g.when(sso('alice', 'operator')).then([]);
  });

  it('follows the subject, not the name the provider offers today', () => {
    given([ev.adminCreated('root'), created('alice', 'viewer')])
      .when(sso('alice.renamed', 'admin', { subject: 'sub-alice' }))
      .then([{ type: 'AdminUserRoleChanged', data: { username: 'alice', role: 'admin' } }]);
  });

  it('links a local user of the same name on its first sign-in (and sets the role)', () => {
    given([ev.adminCreated('root'), ev.adminCreated('bob', 'viewer')]).when(sso('bob', 'operator', { createUsers: false })).then([
      { type: 'AdminUserLinked', data: { username: 'bob', issuer: ISS, subject: 'sub-bob' } },
      { type: 'AdminUserRoleChanged', data: { username: 'bob', role: 'operator' } },
    ]);
  });

  it('refuses another provider account offering the name of a linked user', () => {
    given([ev.adminCreated('root'), created('alice', 'viewer')]).when(sso('alice', 'viewer', { subject: 'someone-else' })).thenThrows('MCM_ERR_SSO_ACCOUNT_CONFLICT');
  });

  it('refuses an unknown user when create_users is off', () => {
    given([ev.adminCreated('root')]).when(sso('carol', 'viewer', { createUsers: false })).thenThrows('MCM_ERR_SSO_USER_UNKNOWN');
  });

  it('refuses a disabled user', () => {
    given([ev.adminCreated('root'), created('alice', 'viewer'), { type: 'AdminUserDisabled', data: { username: 'alice' } }])
      .when(sso('alice', 'viewer')).thenThrows('MCM_ERR_ADMIN_USER_DISABLED');
  });

  it('never demotes the last active admin [DESIGN §9]', () => {
    given([created('alice', 'admin')]).when(sso('alice', 'viewer')).thenThrows('MCM_ERR_LAST_ADMIN');
  });

  it('checks the role, the username and the identity', () => {
    given([]).when(sso('alice', 'superuser')).thenThrows('MCM_ERR_ADMIN_ROLE_INVALID');
    given([]).when(sso('alice smith', 'viewer')).thenThrows('MCM_ERR_USERNAME_INVALID');
    given([]).when({ type: 'SignInWithSso', data: { username: 'alice', issuer: ISS, subject: '', role: 'viewer', createUsers: true } }).thenThrows('MCM_ERR_VALIDATION');
  });
});

const signOut = (username: string, sessionId: string, expiresAt: string): Command => ({ type: 'SignOutAdminUser', data: { username, sessionId, expiresAt } });
const signedOut = (username: string, sessionId: string, expiresAt: string) => ({ type: 'AdminUserSignedOut', data: { username, sessionId, expiresAt } }) as const;

describe('decide: SignOutAdminUser', () => {
  it('records the session that ended (its token id, until it expires); the other sessions stay', () => {
    const g = given([ev.adminCreated('root')]);
    g.when(signOut('root', 'jti-a', '2026-01-02T04:00:00.000Z')).then([signedOut('root', 'jti-a', '2026-01-02T04:00:00.000Z')]);
    const s = fold(record([ev.adminCreated('root'), signedOut('root', 'jti-a', '2026-01-02T04:00:00.000Z')]));
    assert.deepEqual(s.adminUsers['root']?.endedSessions, { 'jti-a': '2026-01-02T04:00:00.000Z' });
    assert.equal(s.adminUsers['root']?.tokenVersion, 1, 'no other session ends');
  });

  it('forgets ended sessions once their token has expired (pruned at the next sign-out, by the event time)', () => {
    const s = fold(record([ev.adminCreated('root'), signedOut('root', 'old', '2026-01-02T03:00:00.000Z'), signedOut('root', 'new', '2026-01-02T05:00:00.000Z')]));
    // Events are folded at 2026-01-02T03:04:05Z (decider-spec AT): "old" had expired by then.
    assert.deepEqual(s.adminUsers['root']?.endedSessions, { new: '2026-01-02T05:00:00.000Z' });
  });

  it('refuses an unknown user and a session without id or expiry', () => {
    given([]).when(signOut('ghost', 'j', '2026-01-02T04:00:00.000Z')).thenThrows('MCM_ERR_ADMIN_USER_NOT_FOUND');
    given([ev.adminCreated('root')]).when(signOut('root', '', '2026-01-02T04:00:00.000Z')).thenThrows('MCM_ERR_VALIDATION');
    given([ev.adminCreated('root')]).when(signOut('root', 'j', 'tomorrow')).thenThrows('MCM_ERR_VALIDATION');
  });
});
