/**
 * ui/data/api-client.ts against the real HTTP app (no mocks): paths under /api/v1, the bearer
 * token, ETags, the server's error codes as ApiError, and the session ending on a 401.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError, createApiClient, queryString, topicPath } from '../../ui/data/api-client.ts';
import { createTestApp, ROLE_USERS, TEST_PASSWORD } from '../helpers/http.ts';

describe('ui/data api-client', () => {
  it('signs in without a token, then calls the API with it and reads the ETag', async (t) => {
    const h = await createTestApp(t);
    let token: string | null = null;
    const api = createApiClient({ fetch, origin: h.baseUrl, token: () => token });
    const login = await api.request<{ token: string; user: { role: string } }>('POST', '/auth/login', { auth: false, body: { username: ROLE_USERS.operator, password: TEST_PASSWORD } });
    assert.equal(login.status, 200);
    assert.equal(login.body.user.role, 'operator');
    token = login.body.token;
    const created = await api.request<{ username: string; password: string }>('POST', '/mqtt-users', { body: { username: 'sensor-1' } });
    assert.equal(created.status, 201);
    assert.equal(created.body.username, 'sensor-1');
    assert.ok(created.body.password.length >= 16, 'a generated password comes back once');
    assert.match(created.etag ?? '', /\d+/);
    const list = await api.get<{ items: { username: string }[] }>('/mqtt-users', { limit: 10, cursor: null });
    assert.deepEqual(list.items.map((u) => u.username), ['sensor-1']);
  });

  it('turns error bodies into ApiError with the stable code; a 401 with a token ends the session', async (t) => {
    const h = await createTestApp(t);
    const ended: ApiError[] = [];
    let token: string | null = await h.tokenFor('viewer');
    const api = createApiClient({ fetch, origin: h.baseUrl, token: () => token, onUnauthorized: (e) => ended.push(e) });
    await assert.rejects(api.post('/mqtt-users', { username: 'x' }), (e: ApiError) => e instanceof ApiError && e.status === 403 && e.code === 'MCM_ERR_FORBIDDEN');
    await assert.rejects(api.get('/mqtt-users/nobody'), (e: ApiError) => e.status === 403);
    assert.equal(ended.length, 0, 'a 403 does not end the session');
    token = 'not-a-jwt';
    await assert.rejects(api.get('/auth/me'), (e: ApiError) => e.status === 401 && e.code.startsWith('MCM_ERR_'));
    assert.equal(ended.length, 1, 'a 401 on a call with a token ends the session');
    // A failed login is a 401 too, but without a token: not a session end.
    await assert.rejects(api.request('POST', '/auth/login', { auth: false, body: { username: 'x', password: 'y' } }), (e: ApiError) => e.status === 401);
    assert.equal(ended.length, 1);
  });

  it('reports an unreachable server as MCM_ERR_NETWORK, never an unhandled TypeError', async () => {
    const api = createApiClient({ fetch, origin: 'http://127.0.0.1:1', token: () => null });
    await assert.rejects(api.get('/status'), (e: ApiError) => e instanceof ApiError && e.status === 0 && e.code === 'MCM_ERR_NETWORK');
  });

  it('builds query strings without empty values and topic paths as one encoded segment (DESIGN §8)', () => {
    assert.equal(queryString({ a: 1, b: '', c: null, d: undefined, e: 'x y' }), '?a=1&e=x+y');
    assert.equal(queryString({}), '');
    assert.equal(topicPath('/topics', 'plant/line 1/#'), '/topics/plant%2Fline%201%2F%23');
  });
});
