import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { createTestApp, ROLE_USERS, TEST_PASSWORD } from '../helpers/http.ts';

describe('security headers on every response [DESIGN §9]', () => {
  it('sets CSP, nosniff, no-referrer and DENY on success, on errors and on unknown routes; no HSTS over plain HTTP', async (t) => {
    const h = await createTestApp(t);
    const responses = [
      await h.request('GET', '/healthz'),
      await h.login(ROLE_USERS.admin, 'wrong-password'),
      await h.request('GET', '/api/v1/no-such-route'),
      await h.request('POST', '/api/v1/auth/login', { rawBody: 'x', headers: { 'content-type': 'text/plain' } }),
    ];
    for (const res of responses) {
      const csp = res.headers.get('content-security-policy') ?? '';
      assert.match(csp, /default-src 'self'/, `${res.status}`);
      assert.match(csp, /frame-ancestors 'none'/);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
      assert.equal(res.headers.get('x-frame-options'), 'DENY');
      assert.equal(res.headers.get('strict-transport-security'), null);
    }
  });

  it('answers unknown routes 404 and wrong methods 405 with a JSON error', async (t) => {
    const h = await createTestApp(t);
    const missing = await h.request('GET', '/api/v1/no-such-route');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error.code, 'MCM_ERR_ROUTE_NOT_FOUND');
    const method = await h.request('PUT', '/api/v1/auth/login', { body: {} });
    assert.equal(method.status, 405);
    assert.equal(method.body.error.code, 'MCM_ERR_METHOD_NOT_ALLOWED');
    assert.match(method.headers.get('allow') ?? '', /POST/);
  });
});

describe('X-Request-ID [DESIGN §9]', () => {
  it('echoes a sane id and replaces anything else with a generated one', async (t) => {
    const h = await createTestApp(t);
    const kept = await h.request('GET', '/healthz', { headers: { 'x-request-id': 'abc-123_DEF.9' } });
    assert.equal(kept.headers.get('x-request-id'), 'abc-123_DEF.9');
    for (const bad of ['has space', 'x'.repeat(129), 'semi;colon', '']) {
      const res = await h.request('GET', '/healthz', { headers: { 'x-request-id': bad } });
      const id = res.headers.get('x-request-id') ?? '';
      assert.notEqual(id, bad);
      assert.match(id, /^[0-9a-f-]{36}$/);
    }
  });

  it('records the request id in the actor of the events a request appends', async (t) => {
    const h = await createTestApp(t);
    await h.request('POST', '/api/v1/admin-users', {
      token: await h.tokenFor('admin'),
      body: { username: 'frank', password: 'franks-long-password', role: 'viewer' },
      headers: { 'x-request-id': 'req-42' },
    });
    const [event] = h.store.read({ stream: 'admin-user:frank' });
    assert.deepEqual(event?.actor, { kind: 'admin', id: ROLE_USERS.admin, ip: '127.0.0.1', request_id: 'req-42' });
  });
});

describe('request bodies [DESIGN §9]', () => {
  it('accepts a body of exactly the limit and refuses one byte more with 413, also when chunked', async (t) => {
    const limit = 512;
    const h = await createTestApp(t, { config: (c) => { c.http.body_limit_bytes = limit; } });
    const bodyOf = (size: number): string => {
      const base = JSON.stringify({ username: 'a', password: '' });
      return JSON.stringify({ username: 'a', password: 'p'.repeat(size - base.length) });
    };
    const exact = await h.request('POST', '/api/v1/auth/login', { rawBody: bodyOf(limit), headers: { 'content-type': 'application/json' } });
    assert.equal(exact.status, 401, 'parsed and checked (wrong password), not refused for size');
    const over = await h.request('POST', '/api/v1/auth/login', { rawBody: bodyOf(limit + 1), headers: { 'content-type': 'application/json' } });
    assert.equal(over.status, 413);
    assert.equal(over.body.error.code, 'MCM_ERR_BODY_TOO_LARGE');

    // Chunked: no Content-Length, so the limit is enforced while reading.
    const chunked = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(`${h.baseUrl}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => { body += c; });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      const big = bodyOf(limit * 4);
      for (let i = 0; i < big.length; i += 100) req.write(big.slice(i, i + 100));
      req.end();
    });
    assert.equal(chunked.status, 413);
    assert.equal(JSON.parse(chunked.body).error.code, 'MCM_ERR_BODY_TOO_LARGE');
  });

  it('refuses a non-UTF-8 charset and invalid UTF-8 bytes', async (t) => {
    const h = await createTestApp(t);
    const latin1 = await h.request('POST', '/api/v1/auth/login', { rawBody: '{}', headers: { 'content-type': 'application/json; charset=iso-8859-1' } });
    assert.equal(latin1.status, 415);
    const bytes = await h.request('POST', '/api/v1/auth/login', { rawBody: new Uint8Array([0x7b, 0xff, 0x7d]), headers: { 'content-type': 'application/json' } });
    assert.equal(bytes.status, 400);
    assert.equal(bytes.body.error.code, 'MCM_ERR_JSON_INVALID');
  });
});

describe('access log [DESIGN §9: no secrets in logs]', () => {
  it('logs one JSON line per request without bodies, Authorization headers or query strings', async (t) => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => { lines.push(line); } });
    const h = await createTestApp(t, { deps: { logger } });
    const token = await h.tokenFor('viewer');
    await h.request('GET', '/api/v1/auth/me?access_token=QUERY-SECRET', { token, headers: { 'x-request-id': 'log-test-1' } });
    await h.login(ROLE_USERS.admin, 'BODY-SECRET-PASSWORD');
    const all = lines.join('');
    assert.doesNotMatch(all, /QUERY-SECRET|BODY-SECRET-PASSWORD/);
    assert.ok(!all.includes(token), 'the bearer token is never logged');
    assert.ok(!all.includes(TEST_PASSWORD));
    const entries = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((e) => e['msg'] === 'request');
    const me = entries.find((e) => e['req_id'] === 'log-test-1');
    assert.ok(me, 'the request is logged with its id');
    assert.equal(me['path'], '/api/v1/auth/me');
    assert.equal(me['status'], 200);
    assert.equal(me['admin'], ROLE_USERS.viewer);
    assert.equal(typeof me['duration_ms'], 'number');
    const failed = entries.find((e) => e['path'] === '/api/v1/auth/login' && e['status'] === 401);
    assert.ok(failed, 'a refused request is logged with the status it got');
  });
});
