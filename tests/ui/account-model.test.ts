/**
 * ui/data/account-model.ts against the real HTTP app: a password change and MFA verify revoke
 * the token that made them and answer with a fresh one, which tokenChangingCall swaps in around a
 * stopped live connection; a refused change leaves the session and restarts live; the helpers
 * that show the enrolment read the server's real otpauth URL.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generate } from 'otplib';
import {
  codeProblem, freshSession, groupSecret, normalizeCode, otpauthLabel, passwordFormProblems, tokenChangingCall, type MfaSetup,
} from '../../ui/data/account-model.ts';
import { adminPasswordProblem } from '../../ui/data/admin-users-model.ts';
import { ApiError, createApiClient } from '../../ui/data/api-client.ts';
import { createSession, type KeyValueStorage, type SessionData } from '../../ui/data/session.ts';
import { createTestApp, ROLE_USERS, TEST_PASSWORD, type TestApp } from '../helpers/http.ts';

const memory = (): KeyValueStorage => {
  const map = new Map<string, string>();
  return { getItem: (k) => map.get(k) ?? null, setItem: (k, v) => { map.set(k, v); }, removeItem: (k) => { map.delete(k); } };
};

/** A signed-in UI session for `role` on the test app, and a live client that records stop/start. */
const signedIn = async (h: TestApp, role: 'auditor' | 'viewer') => {
  const session = createSession(memory(), () => h.clock.ms());
  const ended: string[] = [];
  const api = createApiClient({ fetch, origin: h.baseUrl, token: () => session.token(), onUnauthorized: () => session.clear('ended') });
  const login = await api.request<SessionData>('POST', '/auth/login', { auth: false, body: { username: ROLE_USERS[role], password: TEST_PASSWORD } });
  session.set(login.body);
  session.onChange((d, reason) => { if (d === null) ended.push(reason ?? ''); });
  const calls: string[] = [];
  const live = { stop: () => { calls.push('stop'); }, start: () => { calls.push(`start:${session.token()?.slice(-8)}`); } };
  return { session, api, live, calls, ended };
};

describe('ui/data account-model', () => {
  it('reads fresh sessions and normalises codes', () => {
    assert.equal(freshSession({ mfa_enabled: true }), null);
    assert.equal(freshSession(null), null);
    assert.deepEqual(freshSession({ token: 't', expires_at: 'e', user: { username: 'u', role: 'admin', mfa_enabled: true }, mfa_enabled: true }),
      { token: 't', expires_at: 'e', user: { username: 'u', role: 'admin', mfa_enabled: true } });
    assert.equal(normalizeCode(' 123 456 '), '123456');
    assert.equal(normalizeCode('abcd-efgh'), 'abcdefgh');
    assert.equal(codeProblem('123 456', false), null);
    assert.match(codeProblem('12345', false) ?? '', /6-digit/);
    assert.match(codeProblem('abcd-efgh-ijkl', false) ?? '', /6-digit/);
    assert.equal(codeProblem('abcd-efgh-ijkl', true), null);
    assert.match(codeProblem('', true) ?? '', /enter the code/);
    assert.equal(groupSecret('JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP'), 'JBSW Y3DP EHPK 3PXP JBSW Y3DP EHPK 3PXP');
    assert.deepEqual(otpauthLabel('otpauth://totp/ACME%20Co:jane%40example.com?secret=X&issuer=ACME%20Co'), { issuer: 'ACME Co', account: 'jane@example.com' });
    assert.equal(otpauthLabel('https://example.com'), null);
  });

  it('checks the change-password form before sending it', () => {
    const p = (current: string, next: string, confirm: string) => passwordFormProblems({ current, next, confirm }, adminPasswordProblem).map((x) => x.field);
    assert.deepEqual(p('', '', ''), ['current', 'next']);
    assert.deepEqual(p('old-password-1', 'short', 'short'), ['next']);
    assert.deepEqual(p('old-password-1', 'old-password-1', 'old-password-1'), ['next']);
    assert.deepEqual(p('old-password-1', 'new-password-12', 'new-password-13'), ['confirm']);
    assert.deepEqual(p('old-password-1', 'new-password-12', 'new-password-12'), []);
  });

  it('MFA setup and verify: the fresh token is swapped in around a stopped live connection; the old one is revoked', async (t) => {
    const h = await createTestApp(t);
    const { session, api, live, calls, ended } = await signedIn(h, 'auditor');
    const oldToken = session.token() as string;
    const setup = await api.post<MfaSetup>('/auth/mfa/setup', { password: TEST_PASSWORD });
    assert.equal(setup.recovery_codes.length, 10);
    assert.deepEqual(otpauthLabel(setup.otpauth_url), { issuer: 'MCM', account: ROLE_USERS.auditor });
    assert.equal(groupSecret(setup.secret).replace(/ /g, ''), setup.secret);

    // A wrong code: refused, nothing changed, live comes back with the same token.
    const good = await generate({ secret: setup.secret, epoch: Math.floor(h.clock.ms() / 1000) });
    await assert.rejects(tokenChangingCall({ live, session }, () => api.post('/auth/mfa/verify', { code: good === '000000' ? '111111' : '000000' }), 'x'),
      (e: ApiError) => e instanceof ApiError && e.status === 403);
    assert.deepEqual(calls, ['stop', `start:${oldToken.slice(-8)}`]);
    assert.equal(session.token(), oldToken);

    calls.length = 0;
    const { renewed } = await tokenChangingCall({ live, session }, () => api.post('/auth/mfa/verify', { code: good }), 'x');
    assert.equal(renewed, true);
    const newToken = session.token() as string;
    assert.notEqual(newToken, oldToken);
    assert.deepEqual(calls, ['stop', `start:${newToken.slice(-8)}`], 'live restarts only with the new token');
    assert.equal(session.current()?.user.mfa_enabled, true);
    assert.deepEqual(ended, [], 'the session never ended');
    const me = await api.get<{ mfa_enabled: boolean; recovery_codes_left: number }>('/auth/me');
    assert.equal(me.mfa_enabled, true);
    assert.equal(me.recovery_codes_left, 10);
    const stale = await h.request('GET', '/api/v1/auth/me', { token: oldToken });
    assert.equal(stale.status, 401, 'the token that asked is revoked');
  });

  it('password change keeps this session with the fresh token; a 401 meanwhile does not restart live', async (t) => {
    const h = await createTestApp(t);
    const { session, api, live, calls, ended } = await signedIn(h, 'viewer');
    const oldToken = session.token() as string;
    await assert.rejects(tokenChangingCall({ live, session }, () => api.post('/auth/password', { current_password: 'wrong-password-0', new_password: 'new-password-0123' }), 'x'),
      (e: ApiError) => e.status === 403 && e.code === 'MCM_ERR_REAUTH_FAILED');
    assert.equal(session.token(), oldToken);
    calls.length = 0;
    const { renewed } = await tokenChangingCall({ live, session }, () => api.post('/auth/password', { current_password: TEST_PASSWORD, new_password: 'new-password-0123' }), 'x');
    assert.equal(renewed, true);
    assert.equal((await api.get<{ username: string }>('/auth/me')).username, ROLE_USERS.viewer);
    assert.equal((await h.login(ROLE_USERS.viewer, 'new-password-0123')).status, 200);

    // The session is revoked elsewhere (an admin disables the user) while a change is in flight.
    const admin = await h.tokenFor('admin');
    assert.equal((await h.request('PUT', `/api/v1/admin-users/${ROLE_USERS.viewer}`, { token: admin, body: { disabled: true } })).status, 200);
    calls.length = 0;
    await assert.rejects(tokenChangingCall({ live, session }, () => api.post('/auth/password', { current_password: 'new-password-0123', new_password: 'newer-password-0123' }), 'x'),
      (e: ApiError) => e.status === 401);
    assert.equal(session.current(), null);
    assert.deepEqual(ended, ['ended']);
    assert.deepEqual(calls, ['stop'], 'no restart without a session');
  });

  it('without a token in the answer the session ends with the reason given', async () => {
    const stored: SessionData = { token: 't', expires_at: '2999-01-01T00:00:00.000Z', user: { username: 'u', role: 'viewer', mfa_enabled: false } };
    const session = createSession(memory());
    session.set(stored);
    const reasons: (string | undefined)[] = [];
    session.onChange((d, r) => { if (!d) reasons.push(r); });
    const calls: string[] = [];
    const { renewed } = await tokenChangingCall({ live: { stop: () => calls.push('stop'), start: () => calls.push('start') }, session }, async () => ({}), 'Sign in again.');
    assert.equal(renewed, false);
    assert.equal(session.current(), null);
    assert.deepEqual(reasons, ['Sign in again.']);
    assert.deepEqual(calls, ['stop']);
  });
});
