/**
 * ui/data/lockouts-model.ts: the admin users screen's sign-in locks — what it lists and says,
 * and that its Unlock lifts exactly the lock shown (checked against the real HTTP app).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createApiClient } from '../../ui/data/api-client.ts';
import {
  inWords, isLockedSomewhere, liftLockout, loadLockouts, lockoutState, lockoutWhat, unlockQuery, type Lockout,
} from '../../ui/data/lockouts-model.ts';
import { createTestApp, ROLE_USERS, TEST_PASSWORD } from '../helpers/http.ts';

describe('ui/data lockouts-model', () => {
  it('says what is locked and until when, and unlocks exactly that', () => {
    const now = Date.parse('2026-03-01T13:53:09.000Z');
    const pair: Lockout = { scope: 'pair', username: 'admin', address: '203.0.113.7', failures: 6, until: '2026-03-01T14:05:09.000Z', retry_after_s: 720 };
    const address: Lockout = { scope: 'address', username: null, address: '2001:db8::/64', failures: 30, until: '2026-03-01T13:53:54.000Z', retry_after_s: 45 };
    const slowed: Lockout = { scope: 'username', username: 'admin', address: null, failures: 8, until: '2026-03-01T14:05:09.000Z', delay_s: 4 };
    assert.equal(`${lockoutWhat(pair)}: ${lockoutState(pair, now)}`, 'sign-in for "admin" from 203.0.113.7: locked until 14:05:09 UTC (in 12 minutes) after 6 failed attempts');
    assert.equal(lockoutState(address, now), 'locked until 13:53:54 UTC (in 45 seconds) after 30 failed attempts');
    assert.equal(lockoutWhat(address), 'sign-in from 2001:db8::/64 (every username)');
    assert.match(lockoutState(slowed, now), /^each attempt waits 4 s \(not locked\)/);
    assert.deepEqual(unlockQuery(pair), { username: 'admin', address: '203.0.113.7' });
    assert.deepEqual(unlockQuery(address), { address: '2001:db8::/64' });
    assert.deepEqual(unlockQuery(slowed), { username: 'admin' });
    assert.equal(isLockedSomewhere('admin', [slowed]), false);
    assert.equal(isLockedSomewhere('admin', [slowed, pair]), true);
    assert.equal(inWords('2026-03-01T15:53:09.000Z', now), '2 hours');
  });

  it('against the server: lists a lock an admin can lift, and Unlock lets the user sign in again', async (t) => {
    const h = await createTestApp(t);
    for (let i = 1; i <= 6; i++) await h.login(ROLE_USERS.operator, `wrong-${i}`);
    assert.equal((await h.login(ROLE_USERS.operator, TEST_PASSWORD)).status, 429);
    const token = await h.tokenFor('admin');
    const api = createApiClient({ fetch, origin: h.baseUrl, token: () => token });
    const { items } = await loadLockouts(api);
    const pair = items.find((l) => l.scope === 'pair');
    assert.ok(pair, JSON.stringify(items));
    assert.equal(lockoutWhat(pair), `sign-in for "${ROLE_USERS.operator}" from 127.0.0.1`);
    assert.match(lockoutState(pair, h.clock.ms()), /^locked until \d\d:\d\d:\d\d UTC \(in 15 minutes\) after 6 failed attempts$/);
    assert.equal(isLockedSomewhere(ROLE_USERS.operator, items), true);

    await liftLockout(api, pair);
    assert.equal((await loadLockouts(api)).items.filter((l) => l.scope === 'pair').length, 0);
    assert.equal((await h.login(ROLE_USERS.operator, TEST_PASSWORD)).status, 200);
    const [event] = h.deps.securityLog.list({ category: 'auth.unlocked' }).items;
    assert.equal(event?.actor, ROLE_USERS.admin);
  });
});
