import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ADMIN_ROLES, type AdminRole } from '../../core/state.ts';
import { createTestApp, ROLE_USERS, TEST_PASSWORD, type TestApp } from '../helpers/http.ts';

const BASE = '/api/v1/admin-users';
const VIEW_KEYS = ['created_at', 'disabled', 'mfa_enabled', 'role', 'updated_at', 'username'];

const create = async (h: TestApp, body: unknown, headers?: Record<string, string>) =>
  h.request('POST', BASE, { token: await h.tokenFor('admin'), body, ...(headers ? { headers } : {}) });

describe('GET /admin-users [DESIGN §8: auditor]', () => {
  it('lists users sorted by username, with only the public fields and an ETag', async (t) => {
    const h = await createTestApp(t);
    const res = await h.request('GET', BASE, { token: await h.tokenFor('auditor') });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.items.map((u: { username: string }) => u.username), Object.values(ROLE_USERS).sort());
    for (const u of res.body.items) assert.deepEqual(Object.keys(u).sort(), VIEW_KEYS);
    assert.doesNotMatch(res.text, /\$2[aby]\$|passwordHash|tokenVersion|secret/i, 'no hashes or secrets');
    assert.equal(res.headers.get('etag'), `"${h.eventCount()}"`);
    assert.equal(res.body.total, 4);
  });

  it('pages with limit and cursor', async (t) => {
    const h = await createTestApp(t);
    const token = await h.tokenFor('auditor');
    const first = await h.request('GET', `${BASE}?limit=3`, { token });
    assert.equal(first.body.items.length, 3);
    const second = await h.request('GET', `${BASE}?limit=3&cursor=${first.body.next}`, { token });
    assert.deepEqual(second.body.items.map((u: { username: string }) => u.username), ['test-viewer']);
    assert.equal(second.body.next, null);
  });

  it('GET /admin-users/{username} answers one user, 404 with a code for an unknown one', async (t) => {
    const h = await createTestApp(t);
    const token = await h.tokenFor('auditor');
    const res = await h.request('GET', `${BASE}/${ROLE_USERS.operator}`, { token });
    assert.equal(res.status, 200);
    assert.deepEqual(Object.keys(res.body).sort(), VIEW_KEYS);
    assert.equal(res.body.role, 'operator');
    const missing = await h.request('GET', `${BASE}/nobody`, { token });
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error.code, 'MCM_ERR_ADMIN_USER_NOT_FOUND');
  });
});

describe('role checks on admin-user routes [DESIGN §8]', () => {
  const matrix: Array<[string, string, AdminRole, unknown?]> = [
    ['GET', BASE, 'auditor'],
    ['GET', `${BASE}/test-viewer`, 'auditor'],
    ['POST', BASE, 'admin', { username: 'new-user', password: 'long-enough-password', role: 'viewer' }],
    ['PUT', `${BASE}/test-viewer`, 'admin', { role: 'viewer' }],
    ['DELETE', `${BASE}/test-viewer`, 'admin'],
  ];
  for (const [method, path, min, body] of matrix) {
    it(`${method} ${path.replace('test-viewer', '{username}')} needs ${min}: 401 anonymous, 403 below, allowed at and above`, async (t) => {
      const h = await createTestApp(t);
      const anon = await h.request(method, path, body === undefined ? {} : { body });
      assert.equal(anon.status, 401);
      for (const role of ADMIN_ROLES) {
        if (ADMIN_ROLES.indexOf(role) >= ADMIN_ROLES.indexOf(min)) continue;
        const before = h.eventCount();
        const res = await h.request(method, path, { token: await h.tokenFor(role), ...(body === undefined ? {} : { body }) });
        assert.equal(res.status, 403, `${role}`);
        assert.equal(res.body.error.code, 'MCM_ERR_FORBIDDEN');
        assert.equal(h.eventCount(), before);
      }
      const allowed = await h.request(method, path, { token: await h.tokenFor('admin'), ...(body === undefined ? {} : { body }) });
      assert.ok(allowed.status < 300, `admin gets ${allowed.status}`);
    });
  }
});

describe('POST /admin-users [DESIGN §8: admin]', () => {
  it('creates a user who can sign in: 201, Location, ETag of the new seq, no hash in the answer', async (t) => {
    const h = await createTestApp(t);
    const res = await create(h, { username: 'carol', password: 'carols-long-password', role: 'operator' });
    assert.equal(res.status, 201);
    assert.equal(res.headers.get('location'), `${BASE}/carol`);
    assert.equal(res.headers.get('etag'), `"${h.eventCount()}"`);
    assert.deepEqual({ ...res.body, created_at: 'x', updated_at: 'x' }, {
      username: 'carol', role: 'operator', disabled: false, mfa_enabled: false, created_at: 'x', updated_at: 'x',
    });
    const [event] = h.store.read({ stream: 'admin-user:carol' });
    assert.equal(event?.type, 'AdminUserCreated');
    assert.equal(event?.actor.id, ROLE_USERS.admin);
    assert.match(JSON.stringify(event?.data), /"passwordHash":"\$2b\$04\$/);
    assert.doesNotMatch(JSON.stringify(h.store.read()), /carols-long-password/);
    assert.equal((await h.login('carol', 'carols-long-password')).status, 200);
  });

  it('refuses a duplicate (409), a short password (400, says 12), an unknown role and a bad username, appending nothing', async (t) => {
    const h = await createTestApp(t);
    const before = h.eventCount();
    const dup = await create(h, { username: ROLE_USERS.viewer, password: 'long-enough-password', role: 'viewer' });
    assert.equal(dup.status, 409);
    assert.equal(dup.body.error.code, 'MCM_ERR_ADMIN_USER_EXISTS');
    const short = await create(h, { username: 'dave', password: 'short', role: 'viewer' });
    assert.equal(short.status, 400);
    assert.equal(short.body.error.code, 'MCM_ERR_PASSWORD_POLICY');
    assert.match(short.body.error.message, /at least 12 characters/);
    const role = await create(h, { username: 'dave', password: 'long-enough-password', role: 'root' });
    assert.equal(role.status, 400);
    assert.equal(role.body.error.code, 'MCM_ERR_VALIDATION');
    const name = await create(h, { username: 'dave smith', password: 'long-enough-password', role: 'viewer' });
    assert.equal(name.status, 400);
    assert.equal(name.body.error.code, 'MCM_ERR_USERNAME_INVALID');
    assert.equal(h.eventCount(), before);
  });

  it('refuses malformed JSON, wrong types, unknown fields and oversized bodies with a coded 4xx, appending nothing', async (t) => {
    const h = await createTestApp(t, { config: (c) => { c.http.body_limit_bytes = 2048; } });
    const token = await h.tokenFor('admin');
    const before = h.eventCount();
    const cases: Array<[string, Parameters<TestApp['request']>[2], number, string]> = [
      ['malformed', { rawBody: '{"username":"x"', headers: { 'content-type': 'application/json' } }, 400, 'MCM_ERR_JSON_INVALID'],
      ['wrong types', { body: { username: 1, password: true, role: 'viewer' } }, 400, 'MCM_ERR_VALIDATION'],
      ['unknown field', { body: { username: 'eve', password: 'long-enough-password', role: 'viewer', passwordHash: '$2b$04$x' } }, 400, 'MCM_ERR_VALIDATION'],
      ['array body', { body: [] }, 400, 'MCM_ERR_VALIDATION'],
      ['text/plain', { rawBody: '{}', headers: { 'content-type': 'text/plain' } }, 415, 'MCM_ERR_UNSUPPORTED_MEDIA_TYPE'],
      ['oversized', { body: { username: 'eve', password: 'p'.repeat(4096), role: 'viewer' } }, 413, 'MCM_ERR_BODY_TOO_LARGE'],
    ];
    for (const [name, opts, status, code] of cases) {
      const res = await h.request('POST', BASE, { token, ...opts });
      assert.equal(res.status, status, name);
      assert.equal(res.body.error.code, code, name);
    }
    const put = await h.request('PUT', `${BASE}/${ROLE_USERS.viewer}`, { token, body: { disabled: 'yes', colour: 'red' } });
    assert.equal(put.status, 400);
    assert.equal(put.body.error.details.length, 2, 'every problem is reported');
    assert.equal(h.eventCount(), before);
  });
});

describe('PUT and DELETE /admin-users/{username} [DESIGN §8-9]', () => {
  it('changes role, disabled flag and password; the ETag is the new seq', async (t) => {
    const h = await createTestApp(t);
    const token = await h.tokenFor('admin');
    const res = await h.request('PUT', `${BASE}/${ROLE_USERS.viewer}`, { token, body: { role: 'operator', password: 'reset-by-the-admin' } });
    assert.equal(res.status, 200);
    assert.equal(res.body.role, 'operator');
    assert.equal(res.headers.get('etag'), `"${h.eventCount()}"`);
    const types = h.store.read({ stream: `admin-user:${ROLE_USERS.viewer}` }).map((e) => e.type);
    assert.deepEqual(types, ['AdminUserCreated', 'AdminUserPasswordChanged', 'AdminUserRoleChanged']);
    assert.equal((await h.login(ROLE_USERS.viewer, 'reset-by-the-admin')).status, 200);
    const disabled = await h.request('PUT', `${BASE}/${ROLE_USERS.viewer}`, { token, body: { disabled: true } });
    assert.equal(disabled.body.disabled, true);
  });

  it('a PUT with If-Match older than the user\'s last change is 412', async (t) => {
    const h = await createTestApp(t);
    const token = await h.tokenFor('admin');
    const seq = h.eventCount();
    await h.request('PUT', `${BASE}/${ROLE_USERS.viewer}`, { token, body: { role: 'auditor' } });
    const stale = await h.request('PUT', `${BASE}/${ROLE_USERS.viewer}`, { token, body: { role: 'operator' }, headers: { 'if-match': `"${seq}"` } });
    assert.equal(stale.status, 412);
    assert.equal(stale.body.error.code, 'MCM_ERR_STALE_STREAM');
  });

  it('the last active admin can\'t be demoted, disabled or deleted (409 MCM_ERR_LAST_ADMIN)', async (t) => {
    const h = await createTestApp(t);
    const token = await h.tokenFor('admin');
    const before = h.eventCount();
    const path = `${BASE}/${ROLE_USERS.admin}`;
    for (const [method, body] of [['PUT', { role: 'operator' }], ['PUT', { disabled: true }], ['DELETE', undefined]] as const) {
      const res = await h.request(method, path, { token, ...(body ? { body } : {}) });
      assert.equal(res.status, 409, `${method} ${JSON.stringify(body)}`);
      assert.equal(res.body.error.code, 'MCM_ERR_LAST_ADMIN');
    }
    assert.equal(h.eventCount(), before);
    // With a second admin the first may step down.
    await create(h, { username: 'second-admin', password: 'second-admin-password', role: 'admin' });
    assert.equal((await h.request('PUT', path, { token, body: { role: 'operator' } })).status, 200);
  });

  it('DELETE answers 204 with the new ETag; the user is gone and can\'t sign in', async (t) => {
    const h = await createTestApp(t);
    const token = await h.tokenFor('admin');
    const res = await h.request('DELETE', `${BASE}/${ROLE_USERS.auditor}`, { token });
    assert.equal(res.status, 204);
    assert.equal(res.text, '');
    assert.equal(res.headers.get('etag'), `"${h.eventCount()}"`);
    assert.equal((await h.request('GET', `${BASE}/${ROLE_USERS.auditor}`, { token })).status, 404);
    assert.equal((await h.login(ROLE_USERS.auditor, TEST_PASSWORD)).status, 401);
    const again = await h.request('DELETE', `${BASE}/${ROLE_USERS.auditor}`, { token });
    assert.equal(again.status, 404);
  });
});
