/**
 * ui/data/admin-users-model.ts: the form hints agree with the server's rules (core/names.ts,
 * adapters/http/auth/password-policy.ts) on many inputs, and the last-admin hint agrees with the
 * server's refusal (checked against the real HTTP app).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { adminUsernameProblem as serverUsernameProblem } from '../../core/names.ts';
import { adminPasswordProblem as serverPasswordProblem } from '../../adapters/http/auth/password-policy.ts';
import {
  activeAdminCount, adminPasswordProblem, adminUsernameProblem, endsSessionsOf, removesLastAdmin, upsertUser, type AdminUser,
} from '../../ui/data/admin-users-model.ts';
import { ApiError, createApiClient } from '../../ui/data/api-client.ts';
import { createTestApp } from '../helpers/http.ts';

const USERNAMES = ['ann', '', '.', '..', 'a.b', 'a@b.c', 'x'.repeat(64), 'x'.repeat(65), 'with space', 'ü', 'a:b', 'a/b', '-_-'];
const PASSWORDS = ['', 'short', 'x'.repeat(11), 'x'.repeat(12), '😀'.repeat(12), '😀'.repeat(18), '😀'.repeat(19), 'a'.repeat(72), 'a'.repeat(73), `${'a'.repeat(12)}\0`];

describe('ui/data admin-users-model', () => {
  it('agrees with the server on usernames and passwords', () => {
    for (const u of USERNAMES) assert.equal(adminUsernameProblem(u) === null, serverUsernameProblem(u) === null, JSON.stringify(u));
    for (const p of PASSWORDS) assert.equal(adminPasswordProblem(p), serverPasswordProblem(p), JSON.stringify(p));
    fc.assert(fc.property(fc.string({ maxLength: 80, unit: 'grapheme' }), (s) => {
      assert.equal(adminUsernameProblem(s), serverUsernameProblem(s));
      assert.equal(adminPasswordProblem(s), serverPasswordProblem(s));
    }));
  });

  it('knows which changes would leave no active admin and which end sessions', () => {
    const users: AdminUser[] = [
      { username: 'root', role: 'admin', disabled: false },
      { username: 'old', role: 'admin', disabled: true },
      { username: 'eve', role: 'auditor', disabled: false },
    ];
    const root = users[0] as AdminUser;
    assert.equal(activeAdminCount(users), 1);
    assert.equal(removesLastAdmin(users, root, { role: 'operator' }), true);
    assert.equal(removesLastAdmin(users, root, { disabled: true }), true);
    assert.equal(removesLastAdmin(users, root, { deleted: true }), true);
    assert.equal(removesLastAdmin(users, root, { role: 'admin' }), false);
    assert.equal(removesLastAdmin(users, users[2] as AdminUser, { deleted: true }), false);
    const two = upsertUser(users, { username: 'ann', role: 'admin', disabled: false });
    assert.deepEqual(two.map((u) => u.username), ['ann', 'eve', 'old', 'root']);
    assert.equal(removesLastAdmin(two, root, { role: 'viewer' }), false);
    assert.equal(endsSessionsOf({ role: 'viewer' }), true);
    assert.equal(endsSessionsOf({ password: 'x' }), true);
    assert.equal(endsSessionsOf({}), false);
  });

  it('against the server: the last active admin is refused with MCM_ERR_LAST_ADMIN, as the hint says', async (t) => {
    const h = await createTestApp(t);
    const token = await h.tokenFor('admin');
    const api = createApiClient({ fetch, origin: h.baseUrl, token: () => token });
    const users = (await api.get<{ items: AdminUser[] }>('/admin-users')).items;
    const me = users.find((u) => u.username === 'test-admin') as AdminUser;
    assert.equal(removesLastAdmin(users, me, { role: 'operator' }), true);
    await assert.rejects(api.put(`/admin-users/${me.username}`, { role: 'operator' }),
      (e: ApiError) => e instanceof ApiError && e.status === 409 && e.code === 'MCM_ERR_LAST_ADMIN' && /admin/.test(e.message));
    await assert.rejects(api.del(`/admin-users/${me.username}`), (e: ApiError) => e.code === 'MCM_ERR_LAST_ADMIN');
  });
});
