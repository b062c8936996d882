/**
 * The single sign-on routes over HTTP (issue 17) with a stand-in provider (tests/helpers/fake-oidc.ts):
 * start → callback → exchange as a browser carries the cookies, the groups' role at every
 * sign-in, the refusals with their codes and security events, password sign-in turned off, and
 * sign-out ending the session. The real provider and Chromium: tests/e2e/ui-oidc.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import type { OidcSettings } from '../../adapters/config/oidc-config.ts';
import { createOpenidRelyingParty, OidcFlowError } from '../../adapters/http/auth/oidc-client.ts';
import { freePort } from '../helpers/ports.ts';
import { createTestApp, TEST_PASSWORD } from '../helpers/http.ts';
import { BROWSER_ACCEPT, createFakeOidc, FAKE_ISSUER, fakeOidcSettings, ssoCallback, ssoStart, ssoSignIn } from '../helpers/fake-oidc.ts';

const withSso = async (t: TestContext, over: Partial<OidcSettings> = {}) => {
  const oidc = createFakeOidc();
  const h = await createTestApp(t, { config: (c) => { c.auth.oidc = fakeOidcSettings(over); }, deps: { oidc } });
  return { h, oidc };
};

const user = (sub: string, groups: unknown, extra: Record<string, unknown> = {}) => ({ sub, preferred_username: sub, email: `${sub}@example.test`, groups, ...extra });

describe('single sign-on is off unless configured', () => {
  it('says so to the login screen and refuses to start', async (t) => {
    const h = await createTestApp(t);
    assert.deepEqual((await h.request('GET', '/api/v1/auth/providers')).body, { password_login: true, oidc: null });
    const start = await h.request('POST', '/api/v1/auth/oidc/start');
    assert.equal(start.status, 404);
    assert.equal(start.body.error.code, 'MCM_ERR_SSO_NOT_CONFIGURED');
    // Even to a browser (CI run 40: the API fuzzer sent a browser's Accept and got a page without a code).
    const callback = await h.request('GET', '/api/v1/auth/oidc/callback?code=x&state=y', { headers: { accept: BROWSER_ACCEPT } });
    assert.deepEqual([callback.status, callback.body.error.code], [404, 'MCM_ERR_SSO_NOT_CONFIGURED']);
  });
});

describe('given a configured provider', () => {
  it('offers it on the login screen', async (t) => {
    const { h } = await withSso(t);
    assert.deepEqual((await h.request('GET', '/api/v1/auth/providers')).body, { password_login: true, oidc: { display_name: 'Test IdP' } });
  });

  it('signs a new user in with the highest role its groups map to, recorded through handleCommand with the user as actor', async (t) => {
    const { h, oidc } = await withSso(t);
    oidc.users.set('c-alice', user('alice', ['staff', 'mcm-viewers', 'mcm-operators']));
    const steps = await ssoCallback(h, 'c-alice');
    assert.equal(steps.callback.status, 200);
    assert.match(String(steps.callback.headers.get('content-type')), /text\/html/);
    assert.match(steps.callback.text, /http-equiv="refresh" content="0; url=\/\?sso=done"/);
    // The result waits behind an HttpOnly cookie for the exchange route only; nothing secret in a URL.
    const cookie = steps.callback.headers.getSetCookie().find((c) => c.startsWith('mcm_oidc_result='));
    assert.match(String(cookie), /Path=\/api\/v1\/auth\/oidc\/exchange; Max-Age=60; HttpOnly; SameSite=Lax; Secure/);
    const res = await steps.exchange();
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body.user, { username: 'alice', role: 'operator', mfa_enabled: false });
    const me = await h.request('GET', '/api/v1/auth/me', { token: res.body.token });
    assert.equal(me.body.role, 'operator');

    const state = h.store.state();
    assert.deepEqual(state.adminUsers['alice']?.sso, { issuer: FAKE_ISSUER, subject: 'alice' });
    const audit = await h.request('GET', '/api/v1/audit-events?limit=5', { token: await h.tokenFor('auditor') });
    const row = (audit.body.items as { action: string; actor: { kind: string; id: string } }[]).find((r) => r.action === 'SsoAdminUserCreated');
    assert.deepEqual(row?.actor && { kind: row.actor.kind, id: row.actor.id }, { kind: 'admin', id: 'alice' });

    // The result is collected once.
    const again = await steps.exchange();
    assert.equal(again.status, 401);
    assert.equal(again.body.error.code, 'MCM_ERR_SSO_NOTHING_PENDING');
    // No local password: a password sign-in never works for this user.
    assert.equal((await h.login('alice', '')).status, 400);
    assert.equal((await h.login('alice', TEST_PASSWORD)).status, 401);
  });

  it('a user single sign-on created has no MCM password or second factor to change: 409, no failed attempt counted', async (t) => {
    const { h, oidc } = await withSso(t);
    oidc.users.set('c-erin', user('erin', ['mcm-operators']));
    const signedIn = await ssoSignIn(h, 'c-erin');
    const token = signedIn.body.token as string;
    const me = await h.request('GET', '/api/v1/auth/me', { token });
    assert.deepEqual([me.body.local_password, me.body.sso], [false, true]);
    const before = h.eventCount();
    const pw = await h.request('POST', '/api/v1/auth/password', { token, body: { current_password: 'anything-at-all-1', new_password: 'a-new-password-0123' } });
    assert.deepEqual([pw.status, pw.body.error.code], [409, 'MCM_ERR_NO_LOCAL_PASSWORD']);
    assert.match(pw.body.error.message, /single sign-on/);
    const mfa = await h.request('POST', '/api/v1/auth/mfa/setup', { token, body: { password: 'anything-at-all-1' } });
    assert.deepEqual([mfa.status, mfa.body.error.code], [409, 'MCM_ERR_NO_LOCAL_PASSWORD']);
    assert.equal(h.eventCount(), before);
    assert.equal(h.deps.securityLog.occurrences({ category: 'auth.reauth_failed' }), 0, 'no failed attempt recorded');
    // A local admin keeps both.
    const local = await h.request('GET', '/api/v1/auth/me', { token: await h.tokenFor('viewer') });
    assert.deepEqual([local.body.local_password, local.body.sso], [true, false]);
  });

  it('re-evaluates the role at the next sign-in (the old session ends with the role change)', async (t) => {
    const { h, oidc } = await withSso(t);
    oidc.users.set('c-bob', user('bob', ['mcm-operators']));
    const first = await ssoSignIn(h, 'c-bob');
    assert.equal(first.body.user.role, 'operator');
    oidc.users.set('c-bob', user('bob', 'mcm-auditors')); // one string is one group
    const second = await ssoSignIn(h, 'c-bob');
    assert.equal(second.body.user.role, 'auditor');
    assert.equal((await h.request('GET', '/api/v1/auth/me', { token: first.body.token })).status, 401);
    assert.equal((await h.request('GET', '/api/v1/auth/me', { token: second.body.token })).body.role, 'auditor');
  });

  it('refuses a user whose groups map to no role, with a message that says so, and records it', async (t) => {
    const { h, oidc } = await withSso(t);
    oidc.users.set('c-carol', user('carol', ['staff']));
    const before = h.eventCount();
    const steps = await ssoCallback(h, 'c-carol');
    assert.equal(steps.callback.status, 403);
    const res = await steps.exchange();
    assert.equal(res.status, 403);
    assert.equal(res.body.error.code, 'MCM_ERR_SSO_NO_ROLE');
    assert.match(res.body.error.message, /Test IdP account "carol" is in no group that gives a role in MCM/);
    assert.equal(h.eventCount(), before);
    const events = h.deps.securityLog.list({ category: 'auth.sso_failed' }).items;
    assert.equal(events[0]?.actor, 'carol');
    assert.equal((events[0]?.details as { reason?: string }).reason, 'no_role');
  });

  it('refuses a wrong state, a callback without the browser\'s flow cookie, and an ID token the client rejected', async (t) => {
    const { h, oidc } = await withSso(t);
    oidc.users.set('c-dave', user('dave', ['mcm-admins']));
    oidc.users.set('c-forged', new OidcFlowError('refused', 'JWS signature verification failed'));
    for (const [steps, pattern] of [
      [await ssoCallback(h, 'c-dave', { state: 'not-the-state' }), /unexpected "state"/],
      [await ssoCallback(h, 'c-dave', { flowCookie: null }), /not started in this browser/],
      [await ssoCallback(h, 'c-forged'), /signature verification failed/],
    ] as const) {
      assert.equal(steps.callback.status, 401);
      const res = await steps.exchange();
      assert.equal(res.status, 401);
      assert.equal(res.body.error.code, 'MCM_ERR_SSO_FAILED');
      assert.match(res.body.error.message, pattern);
    }
    assert.equal(h.store.state().adminUsers['dave'], undefined);
    assert.equal(h.deps.securityLog.occurrences({ category: 'auth.sso_failed' }), 3);
    // A client that asks for JSON (a script, not a browser) gets the refusal as every route answers one.
    const started = await ssoStart(h, 'c-dave', 'not-the-state');
    const json = await h.request('GET', started.url, { headers: { cookie: started.cookie, accept: 'application/json' } });
    assert.deepEqual([json.status, json.body.error.code], [401, 'MCM_ERR_SSO_FAILED']);
    assert.match(json.body.error.message, /unexpected "state"/);
  });

  it('with create_users off: refuses an unknown user, links a local user of the same name, refuses another account with that name', async (t) => {
    const { h, oidc } = await withSso(t, { create_users: false });
    oidc.users.set('c-erin', user('erin', ['mcm-viewers']));
    const unknown = await (await ssoCallback(h, 'c-erin')).exchange();
    assert.equal(unknown.status, 403);
    assert.equal(unknown.body.error.code, 'MCM_ERR_SSO_USER_UNKNOWN');

    const admin = await h.tokenFor('admin');
    assert.equal((await h.request('POST', '/api/v1/admin-users', { token: admin, body: { username: 'erin', password: TEST_PASSWORD, role: 'admin' } })).status, 201);
    const linked = await ssoSignIn(h, 'c-erin');
    assert.equal(linked.status, 200, linked.text);
    assert.equal(linked.body.user.role, 'viewer');

    oidc.users.set('c-impostor', user('impostor', ['mcm-admins'], { preferred_username: 'erin' }));
    const impostor = await ssoSignIn(h, 'c-impostor');
    assert.equal(impostor.status, 409);
    assert.equal(impostor.body.error.code, 'MCM_ERR_SSO_ACCOUNT_CONFLICT');
  });

  it('answers 502 with the reason when the provider cannot be reached (the real client, a closed loopback port)', async (t) => {
    const settings = fakeOidcSettings({ issuer: `http://127.0.0.1:${await freePort()}` });
    const h = await createTestApp(t, { config: (c) => { c.auth.oidc = settings; }, deps: { oidc: createOpenidRelyingParty(settings, 'secret') } });
    const start = await h.request('POST', '/api/v1/auth/oidc/start');
    assert.equal(start.status, 502);
    assert.equal(start.body.error.code, 'MCM_ERR_SSO_PROVIDER_UNAVAILABLE');
    assert.match(start.body.error.message, /could not be discovered/);
  });

  it('turns password sign-in off when password_login is false', async (t) => {
    const { h } = await withSso(t, { password_login: false });
    assert.deepEqual((await h.request('GET', '/api/v1/auth/providers')).body, { password_login: false, oidc: { display_name: 'Test IdP' } });
    const res = await h.login('test-admin', TEST_PASSWORD);
    assert.equal(res.status, 403);
    assert.equal(res.body.error.code, 'MCM_ERR_PASSWORD_LOGIN_DISABLED');
    assert.match(res.body.error.message, /Sign in with Test IdP/);
  });
});

describe('POST /auth/logout', () => {
  it('ends the session: its token is refused afterwards (also after a restart: it is in the log), other sessions stay, the audit shows it', async (t) => {
    const h = await createTestApp(t);
    const token = await h.tokenFor('viewer');
    const other = (await h.login('test-viewer', TEST_PASSWORD)).body.token as string;
    const out = await h.request('POST', '/api/v1/auth/logout', { token });
    assert.equal(out.status, 204);
    const me = await h.request('GET', '/api/v1/auth/me', { token });
    assert.equal(me.status, 401);
    assert.equal(me.body.error.code, 'MCM_ERR_UNAUTHENTICATED');
    assert.match(me.body.error.message, /this session was signed out/);
    assert.equal((await h.request('GET', '/api/v1/auth/me', { token: other })).status, 200, 'another session of the same user goes on');
    const audit = await h.request('GET', '/api/v1/audit-events?limit=1', { token: await h.tokenFor('auditor') });
    assert.equal(audit.body.items[0].action, 'AdminUserSignedOut');
    assert.equal(audit.body.items[0].actor.id, 'test-viewer');
    assert.equal((await h.request('POST', '/api/v1/auth/logout', { token })).status, 401, 'a signed-out token can\'t sign out again');
  });
});
