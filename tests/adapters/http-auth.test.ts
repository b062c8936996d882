import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import jwt from 'jsonwebtoken';
import { JWT_AUDIENCE, JWT_ISSUER } from '../../adapters/http/auth/jwt.ts';
import { createTestApp, ROLE_USERS, TEST_PASSWORD, type TestApp } from '../helpers/http.ts';

const b64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Claims a real token for `username` would carry at the helper clock's time. */
const claimsFor = (h: TestApp, username: string, extra: Record<string, unknown> = {}): Record<string, unknown> => {
  const iat = Math.floor(h.clock.ms() / 1000);
  return { sub: username, tv: h.store.state().adminUsers[username]?.tokenVersion ?? 1, iat, exp: iat + 600, jti: 'x', iss: JWT_ISSUER, aud: JWT_AUDIENCE, ...extra };
};

const me = (h: TestApp, token: string) => h.request('GET', '/api/v1/auth/me', { token });

describe('POST /auth/login [DESIGN §8]', () => {
  it('signs in with username and password: a token, its expiry and the user', async (t) => {
    const h = await createTestApp(t);
    const res = await h.login(ROLE_USERS.operator, TEST_PASSWORD);
    assert.equal(res.status, 200);
    assert.equal(typeof res.body.token, 'string');
    assert.deepEqual(res.body.user, { username: ROLE_USERS.operator, role: 'operator', mfa_enabled: false });
    // TTL defaults to 1 h (config.auth.jwt_ttl_s), measured on the app's clock.
    assert.equal(Date.parse(res.body.expires_at) - Math.floor(h.clock.ms() / 1000) * 1000, 3600 * 1000);
    const header = JSON.parse(Buffer.from(res.body.token.split('.')[0], 'base64url').toString());
    assert.equal(header.alg, 'HS256');
  });

  it('refuses a wrong password and an unknown username with the same 401 answer', async (t) => {
    const h = await createTestApp(t);
    const wrong = await h.login(ROLE_USERS.admin, 'not-the-password');
    const unknown = await h.login('nobody-here', 'not-the-password');
    assert.equal(wrong.status, 401);
    assert.equal(unknown.status, 401);
    assert.equal(wrong.body.error.code, 'MCM_ERR_LOGIN_FAILED');
    assert.deepEqual(unknown.body, wrong.body);
  });

  it('records a security event for every failed sign-in, without the password', async (t) => {
    const h = await createTestApp(t);
    await h.login(ROLE_USERS.admin, 'secret-guess-1');
    await h.login('nobody-here', 'secret-guess-2');
    const { items } = h.deps.securityLog.list({ category: 'auth.login_failed' });
    assert.equal(items.length, 2);
    assert.deepEqual(items.map((e) => e.actor).sort(), ['nobody-here', ROLE_USERS.admin].sort());
    assert.ok(items.every((e) => e.ip === '127.0.0.1' && e.severity === 'warning'));
    assert.doesNotMatch(JSON.stringify(items), /secret-guess/);
  });

  it('refuses a disabled user even with the right password', async (t) => {
    const h = await createTestApp(t);
    const admin = await h.tokenFor('admin');
    const put = await h.request('PUT', `/api/v1/admin-users/${ROLE_USERS.viewer}`, { token: admin, body: { disabled: true } });
    assert.equal(put.status, 200);
    const res = await h.login(ROLE_USERS.viewer, TEST_PASSWORD);
    assert.equal(res.status, 401);
    assert.equal(res.body.error.code, 'MCM_ERR_LOGIN_FAILED');
  });

  it('refuses malformed JSON, wrong types, unknown fields and oversized bodies with a coded 4xx, changing nothing', async (t) => {
    const h = await createTestApp(t, { config: (c) => { c.http.body_limit_bytes = 4096; } });
    const before = h.eventCount();
    const cases: Array<[string, Parameters<TestApp['request']>[2], number, string]> = [
      ['malformed JSON', { rawBody: '{"username": "a",', headers: { 'content-type': 'application/json' } }, 400, 'MCM_ERR_JSON_INVALID'],
      ['wrong types', { body: { username: 42, password: ['x'] } }, 400, 'MCM_ERR_VALIDATION'],
      ['unknown field', { body: { username: ROLE_USERS.admin, password: TEST_PASSWORD, role: 'admin' } }, 400, 'MCM_ERR_VALIDATION'],
      ['missing body', {}, 400, 'MCM_ERR_VALIDATION'],
      ['not JSON', { rawBody: 'username=a&password=b', headers: { 'content-type': 'application/x-www-form-urlencoded' } }, 415, 'MCM_ERR_UNSUPPORTED_MEDIA_TYPE'],
      ['oversized', { body: { username: 'a', password: 'x'.repeat(5000) } }, 413, 'MCM_ERR_BODY_TOO_LARGE'],
    ];
    for (const [name, opts, status, code] of cases) {
      const res = await h.request('POST', '/api/v1/auth/login', opts);
      assert.equal(res.status, status, name);
      assert.equal(res.body.error.code, code, name);
      assert.equal(typeof res.body.error.message, 'string', name);
    }
    const unknown = await h.request('POST', '/api/v1/auth/login', { body: { username: 'a', password: 'b', extra: 1 } });
    assert.ok(unknown.body.error.details.some((d: { field?: string }) => d.field === 'extra'), 'the unknown field is named');
    assert.equal(h.eventCount(), before);
  });
});

describe('bearer tokens [DESIGN §9]', () => {
  it('GET /auth/me answers for the signed-in user and 401 without a token', async (t) => {
    const h = await createTestApp(t);
    const res = await me(h, await h.tokenFor('auditor'));
    assert.equal(res.status, 200);
    assert.equal(res.body.username, ROLE_USERS.auditor);
    assert.equal(res.body.role, 'auditor');
    assert.equal(res.body.mfa_enabled, false);
    const anon = await h.request('GET', '/api/v1/auth/me');
    assert.equal(anon.status, 401);
    assert.equal(anon.body.error.code, 'MCM_ERR_UNAUTHENTICATED');
    assert.match(anon.headers.get('www-authenticate') ?? '', /^Bearer/);
  });

  it('refuses an unsigned token (alg: none)', async (t) => {
    const h = await createTestApp(t);
    const token = `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(claimsFor(h, ROLE_USERS.admin))}.`;
    const res = await me(h, token);
    assert.equal(res.status, 401);
    assert.equal(res.body.error.code, 'MCM_ERR_UNAUTHENTICATED');
    assert.equal(h.deps.securityLog.count({ category: 'auth.token_invalid' }), 1);
  });

  it('refuses a token signed with another secret, and one signed with another algorithm', async (t) => {
    const h = await createTestApp(t);
    const other = jwt.sign(claimsFor(h, ROLE_USERS.admin), 'x'.repeat(64), { algorithm: 'HS256' });
    assert.equal((await me(h, other)).status, 401);
    const realSecret = h.deps.secrets.read('jwt.key');
    assert.ok(realSecret, 'the JWT secret was generated in the secrets store on first start');
    const hs512 = jwt.sign(claimsFor(h, ROLE_USERS.admin), realSecret, { algorithm: 'HS512' });
    assert.equal((await me(h, hs512)).status, 401, 'only HS256 is accepted');
    const hs256 = jwt.sign(claimsFor(h, ROLE_USERS.admin), realSecret, { algorithm: 'HS256' });
    assert.equal((await me(h, hs256)).status, 200, 'control: the same claims with the real secret pass');
  });

  it('refuses an expired token (TTL from config.auth.jwt_ttl_s)', async (t) => {
    const h = await createTestApp(t, { config: (c) => { c.auth.jwt_ttl_s = 60; } });
    const token = await h.tokenFor('viewer');
    assert.equal((await me(h, token)).status, 200);
    h.clock.advance(61);
    const res = await me(h, token);
    assert.equal(res.status, 401);
    assert.match(res.body.error.message, /expired/);
  });

  it('a password change revokes older tokens at once and answers with a fresh one', async (t) => {
    const h = await createTestApp(t);
    const old = await h.tokenFor('operator');
    const res = await h.request('POST', '/api/v1/auth/password', {
      token: old, body: { current_password: TEST_PASSWORD, new_password: 'a-brand-new-password' },
    });
    assert.equal(res.status, 200);
    const refused = await me(h, old);
    assert.equal(refused.status, 401);
    assert.match(refused.body.error.message, /revoked/);
    assert.equal(h.deps.securityLog.count({ category: 'auth.token_revoked' }), 1);
    assert.equal((await me(h, res.body.token)).status, 200);
    assert.equal((await h.login(ROLE_USERS.operator, 'a-brand-new-password')).status, 200);
    assert.equal((await h.login(ROLE_USERS.operator, TEST_PASSWORD)).status, 401);
  });

  it('a role change, disabling and deleting revoke the user\'s tokens', async (t) => {
    const h = await createTestApp(t);
    const admin = await h.tokenFor('admin');
    const viewer = await h.tokenFor('viewer');
    const auditor = await h.tokenFor('auditor');
    const operator = await h.tokenFor('operator');
    await h.request('PUT', `/api/v1/admin-users/${ROLE_USERS.viewer}`, { token: admin, body: { role: 'auditor' } });
    await h.request('PUT', `/api/v1/admin-users/${ROLE_USERS.auditor}`, { token: admin, body: { disabled: true } });
    await h.request('DELETE', `/api/v1/admin-users/${ROLE_USERS.operator}`, { token: admin });
    for (const token of [viewer, auditor, operator]) assert.equal((await me(h, token)).status, 401);
    assert.equal((await me(h, admin)).status, 200, 'other users keep their sessions');
  });

  it('refuses a malformed Authorization header, even on a public route', async (t) => {
    const h = await createTestApp(t);
    const res = await h.request('POST', '/api/v1/auth/login', {
      body: { username: ROLE_USERS.admin, password: TEST_PASSWORD }, headers: { authorization: 'Basic YTpi' },
    });
    assert.equal(res.status, 401);
  });
});

describe('POST /auth/password [DESIGN §9]', () => {
  it('needs the current password; a wrong one is 403, a security event, and counts toward the lockout', async (t) => {
    const h = await createTestApp(t, { config: (c) => { c.auth.lockout.max_failures = 2; } });
    const token = await h.tokenFor('viewer');
    const before = h.eventCount();
    const attempt = () => h.request('POST', '/api/v1/auth/password', {
      token, body: { current_password: 'wrong-password-1', new_password: 'another-new-password' },
    });
    const res = await attempt();
    assert.equal(res.status, 403);
    assert.equal(res.body.error.code, 'MCM_ERR_REAUTH_FAILED');
    assert.equal(h.deps.securityLog.count({ category: 'auth.reauth_failed' }), 1);
    const second = await attempt();
    assert.equal(second.status, 429, 'the second failure reaches max_failures = 2');
    assert.equal(second.body.error.code, 'MCM_ERR_LOCKED_OUT');
    assert.equal(h.eventCount(), before);
  });

  it('refuses a new password under 12 characters and says so', async (t) => {
    const h = await createTestApp(t);
    const before = h.eventCount();
    const res = await h.request('POST', '/api/v1/auth/password', {
      token: await h.tokenFor('viewer'), body: { current_password: TEST_PASSWORD, new_password: 'short-pw' },
    });
    assert.equal(res.status, 400);
    assert.equal(res.body.error.code, 'MCM_ERR_PASSWORD_POLICY');
    assert.match(res.body.error.message, /at least 12 characters/);
    assert.equal(h.eventCount(), before);
  });

  it('stores only a bcrypt hash of the new password in the event log', async (t) => {
    const h = await createTestApp(t);
    await h.request('POST', '/api/v1/auth/password', {
      token: await h.tokenFor('viewer'), body: { current_password: TEST_PASSWORD, new_password: 'plaintext-never-logged' },
    });
    const [event] = h.store.read({ after: h.eventCount() - 1 });
    assert.equal(event?.type, 'AdminUserPasswordChanged');
    assert.match(JSON.stringify(event?.data), /\$2[aby]\$04\$/);
    assert.doesNotMatch(JSON.stringify(h.store.read()), /plaintext-never-logged/);
    assert.equal(event?.actor.kind, 'admin');
    assert.equal(event?.actor.id, ROLE_USERS.viewer);
  });
});
