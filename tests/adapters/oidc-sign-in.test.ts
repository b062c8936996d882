/**
 * The pure parts of single sign-on (issue 17): groups claim → role (highest mapped wins), the
 * username a new user gets, and the one-time store behind flows and results (single use, expiry,
 * bounded).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { OidcClaims } from '../../adapters/http/auth/oidc-client.ts';
import { groupsOf, roleForGroups, usernameOf } from '../../adapters/http/auth/oidc-sign-in.ts';
import { createOneTimeStore } from '../../adapters/http/auth/one-time-store.ts';
import { fakeOidcSettings } from '../helpers/fake-oidc.ts';

const claims = (c: Record<string, unknown>): OidcClaims => ({ iss: 'https://idp.test', sub: 's', ...c }) as OidcClaims;
const MAPPING = { 'mcm-admins': 'admin', 'mcm-operators': 'operator', 'mcm-viewers': 'viewer' } as const;

describe('groups → role', () => {
  it('reads a list of strings or one string; anything else is no group', () => {
    assert.deepEqual(groupsOf(claims({ groups: ['a', 2, 'b'] }), 'groups'), ['a', 'b']);
    assert.deepEqual(groupsOf(claims({ groups: 'a' }), 'groups'), ['a']);
    assert.deepEqual(groupsOf(claims({ groups: { a: true } }), 'groups'), []);
    assert.deepEqual(groupsOf(claims({}), 'groups'), []);
  });

  it('gives the highest mapped role, or null when no group is mapped', () => {
    assert.equal(roleForGroups(['staff', 'mcm-viewers', 'mcm-operators'], MAPPING), 'operator');
    assert.equal(roleForGroups(['mcm-admins', 'mcm-viewers'], MAPPING), 'admin');
    assert.equal(roleForGroups(['staff', 'toString', '__proto__'], MAPPING), null);
    assert.equal(roleForGroups([], MAPPING), null);
  });
});

describe('the username of a new user', () => {
  const settings = fakeOidcSettings();
  it('is the configured claim when it follows the admin username rules, else the email', () => {
    assert.equal(usernameOf(claims({ preferred_username: 'anna', email: 'anna@example.com' }), settings), 'anna');
    assert.equal(usernameOf(claims({ preferred_username: 'Anna Smith', email: 'anna@example.com' }), settings), 'anna@example.com');
    assert.equal(usernameOf(claims({ preferred_username: 'Anna Smith' }), settings), null);
    assert.equal(usernameOf(claims({ upn: 'anna.s' }), { ...settings, username_claim: 'upn' }), 'anna.s');
  });
});

describe('createOneTimeStore', () => {
  it('gives a value back once, not after its time, and keeps at most `max`', () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const clock = { now: () => new Date(now).toISOString() };
    const store = createOneTimeStore<string>({ clock, ttlMs: 1000, max: 2 });
    const a = store.put('a');
    assert.match(a, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(store.take(a), 'a');
    assert.equal(store.take(a), null, 'single use');
    const b = store.put('b');
    now += 1000;
    assert.equal(store.take(b), null, 'expired');
    const [c, d, e] = [store.put('c'), store.put('d'), store.put('e')];
    assert.equal(store.take(c), null, 'the oldest went when the store was full');
    assert.equal(store.take(d), 'd');
    assert.equal(store.take(e), 'e');
    assert.equal(store.take('unknown'), null);
  });
});
