/**
 * Bad input gets a clear 4xx with a stable MCM_ERR_* code, never a 500, and never changes state
 * (DESIGN §9; house rule "bad input → DomainError with a clear message and stable code; nothing
 * changes"). Every case is sent with a token that is allowed to call the route, so what refuses it
 * is the input, not the role guard.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createTestApp, type RequestOptions, type TestApp } from '../helpers/http.ts';

const LIMIT = 64 * 1024;

type BadCase = { name: string; method: string; path: string; opts: RequestOptions; status?: number; code?: string | RegExp };

const json = { 'content-type': 'application/json' };

/** Fixtures every case can refer to: user alice, role sensors, rule 1 (anonymous), schema 1. */
const world = async (h: TestApp, op: string): Promise<{ ruleId: number; schemaId: number }> => {
  const ok = (r: { status: number; text: string }): void => assert.ok(r.status < 300, r.text);
  ok(await h.request('POST', '/api/v1/roles', { token: op, body: { name: 'sensors' } }));
  ok(await h.request('POST', '/api/v1/mqtt-users', { token: op, body: { username: 'alice' } }));
  const rule = await h.request('POST', '/api/v1/acls', { token: op, body: { principal: 'anonymous', topic: 'a/#', access: 'read' } });
  ok(rule);
  const schema = await h.request('POST', '/api/v1/json-schemas', { token: op, body: { name: 's', topic_filter: 'a/#', schema: {} } });
  ok(schema);
  return { ruleId: rule.body.id, schemaId: schema.body.id };
};

const cases = (ids: { ruleId: number; schemaId: number }): BadCase[] => {
  const writes: [string, string][] = [
    ['POST', '/api/v1/mqtt-users'],
    ['PUT', '/api/v1/mqtt-users/alice'],
    ['POST', '/api/v1/mqtt-users/alice/password'],
    ['POST', '/api/v1/roles'],
    ['PUT', '/api/v1/roles/sensors'],
    ['POST', '/api/v1/acls'],
    ['PUT', `/api/v1/acls/${ids.ruleId}`],
    ['POST', '/api/v1/acls/explain'],
    ['POST', '/api/v1/json-schemas'],
    ['PUT', `/api/v1/json-schemas/${ids.schemaId}`],
    ['PUT', '/api/v1/settings'],
  ];
  const out: BadCase[] = [];
  for (const [method, path] of writes) {
    out.push(
      { name: 'malformed JSON', method, path, opts: { rawBody: '{"username": "x",', headers: json }, status: 400, code: 'MCM_ERR_JSON_INVALID' },
      { name: 'invalid UTF-8', method, path, opts: { rawBody: new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x7d]), headers: json }, status: 400, code: 'MCM_ERR_JSON_INVALID' },
      { name: 'not JSON', method, path, opts: { rawBody: 'username=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } }, status: 415, code: 'MCM_ERR_UNSUPPORTED_MEDIA_TYPE' },
      { name: 'an array body', method, path, opts: { body: [] }, status: 400, code: 'MCM_ERR_VALIDATION' },
      { name: 'a null body', method, path, opts: { rawBody: 'null', headers: json }, status: 400, code: 'MCM_ERR_VALIDATION' },
      { name: 'a string body', method, path, opts: { body: 'alice' }, status: 400, code: 'MCM_ERR_VALIDATION' },
      { name: 'an unknown field', method, path, opts: { body: { unexpected_field: true } }, status: 400, code: 'MCM_ERR_VALIDATION' },
      { name: 'a __proto__ field', method, path, opts: { rawBody: '{"__proto__": {"admin": true}}', headers: json }, status: 400, code: 'MCM_ERR_VALIDATION' },
      { name: 'an oversized body', method, path, opts: { body: { description: 'x'.repeat(LIMIT + 1) } }, status: 413, code: 'MCM_ERR_BODY_TOO_LARGE' },
    );
  }
  const wrongTypes: [string, string, unknown][] = [
    ['POST', '/api/v1/mqtt-users', { username: 5 }],
    ['POST', '/api/v1/mqtt-users', { username: 'x', roles: 'sensors' }],
    ['POST', '/api/v1/mqtt-users', { username: 'x', disabled: 'no' }],
    ['POST', '/api/v1/mqtt-users', { username: 'x', password: '' }],
    ['POST', '/api/v1/mqtt-users', { username: 'x', roles: ['sensors', 'sensors'] }],
    ['PUT', '/api/v1/mqtt-users/alice', { description: 7 }],
    ['POST', '/api/v1/mqtt-users/alice/password', { password: 123 }],
    ['POST', '/api/v1/roles', { name: 'r', rules: [{ topic: 'a' }] }],
    ['POST', '/api/v1/roles', { name: 'r', rules: { topic: 'a', access: 'read' } }],
    ['POST', '/api/v1/acls', { principal: 'anonymous', topic: 5, access: 'read' }],
    ['POST', '/api/v1/acls', { principal: 'anonymous', topic: 'a', access: 'READ' }],
    ['POST', '/api/v1/acls/explain', { topic: 'a', action: 'subscribe' }],
    ['POST', '/api/v1/json-schemas', { name: 'n', topic_filter: 'a', schema: 'not a schema' }],
    ['PUT', '/api/v1/settings', { allow_anonymous: 'true' }],
    ['PUT', '/api/v1/settings', { hash_iterations: 1.5 }],
  ];
  for (const [method, path, body] of wrongTypes) out.push({ name: `wrong type ${JSON.stringify(body)}`, method, path, opts: { body }, status: 400, code: 'MCM_ERR_VALIDATION' });

  const domain: [string, string, unknown, string][] = [
    ['POST', '/api/v1/mqtt-users', { username: 'bad/name' }, 'MCM_ERR_USERNAME_INVALID'],
    ['POST', '/api/v1/mqtt-users', { username: 'tab\there' }, 'MCM_ERR_USERNAME_INVALID'],
    ['POST', '/api/v1/mqtt-users', { username: '+' }, 'MCM_ERR_USERNAME_INVALID'],
    ['POST', '/api/v1/acls', { principal: 'anonymous', topic: 'a/#/b', access: 'read' }, 'MCM_ERR_TOPIC_FILTER_INVALID'],
    ['POST', '/api/v1/acls', { principal: 'anonymous', topic: 'sport+', access: 'read' }, 'MCM_ERR_TOPIC_FILTER_INVALID'],
    ['POST', '/api/v1/acls', { principal: 'anonymous', topic: 'a\u0000b', access: 'read' }, 'MCM_ERR_TOPIC_FILTER_INVALID'],
    ['POST', '/api/v1/acls', { principal: 'anonymous', topic: '/'.repeat(201), access: 'read' }, 'MCM_ERR_TOPIC_FILTER_INVALID'],
    ['POST', '/api/v1/acls', { principal: 'user:bad/name', topic: 'a', access: 'read' }, 'MCM_ERR_PRINCIPAL_INVALID'],
    ['POST', '/api/v1/json-schemas', { name: 'n', topic_filter: 'a/#/', schema: {} }, 'MCM_ERR_TOPIC_FILTER_INVALID'],
    ['PUT', '/api/v1/settings', { hash_iterations: 0 }, 'MCM_ERR_VALIDATION'],
  ];
  for (const [method, path, body, code] of domain) out.push({ name: `invalid ${JSON.stringify(body).slice(0, 60)}`, method, path, opts: { body }, status: 400, code });
  // Deeper than JSON.stringify (and a recursive compiler) can go: sent as text.
  out.push({
    name: 'a schema nested 5000 levels', method: 'POST', path: '/api/v1/json-schemas', status: 400, code: 'MCM_ERR_SCHEMA_INVALID',
    opts: { rawBody: `{"name":"n","topic_filter":"a","schema":${'{"not":'.repeat(5000)}{}${'}'.repeat(5000)}}`, headers: json },
  });
  for (const [method, path] of writes) {
    out.push({
      name: 'an unknown field nested 5000 levels', method, path, status: 400, code: 'MCM_ERR_VALIDATION',
      opts: { rawBody: `{"deep":${'['.repeat(5000)}${']'.repeat(5000)}}`, headers: json },
    });
  }

  const long = 'a'.repeat(4000);
  const traversal: [string, string][] = [
    ['GET', '/api/v1/mqtt-users/..%2F..%2Fetc'],
    ['GET', '/api/v1/mqtt-users/..%2F..%2Fetc%2Fpasswd'],
    ['GET', '/api/v1/mqtt-users/%00'],
    ['GET', '/api/v1/mqtt-users/alice%00'],
    ['GET', `/api/v1/mqtt-users/${long}`],
    ['GET', '/api/v1/mqtt-users/%E0%A4%A'],
    ['PUT', '/api/v1/mqtt-users/..%2F..%2Fetc'],
    ['DELETE', '/api/v1/mqtt-users/..%2F..%2Fetc'],
    ['DELETE', '/api/v1/mqtt-users/%00'],
    ['DELETE', `/api/v1/mqtt-users/${long}`],
    ['POST', '/api/v1/mqtt-users/..%2F..%2Fetc/password'],
    ['GET', '/api/v1/roles/..%2F..%2Fetc'],
    ['DELETE', '/api/v1/roles/%00'],
    ['DELETE', `/api/v1/roles/${long}`],
    ['GET', '/api/v1/acls/..%2F..%2Fetc'],
    ['DELETE', '/api/v1/acls/%00'],
    ['DELETE', '/api/v1/acls/1%00'],
    ['DELETE', '/api/v1/acls/-1'],
    ['DELETE', '/api/v1/acls/0x1'],
    ['DELETE', '/api/v1/acls/99999999999999999999999'],
    ['DELETE', `/api/v1/acls/${long}`],
    ['GET', '/api/v1/json-schemas/..%2F..%2Fetc'],
    ['DELETE', '/api/v1/json-schemas/1.5'],
    ['GET', '/api/v1/admin-users/..%2F..%2Fetc'],
    ['GET', '/api/v1/events?stream=..%2F..%2Fetc&after=-5'],
    ['GET', '/api/v1/state?at=..%2F..%2Fetc'],
  ];
  for (const [method, path] of traversal) {
    const body = method === 'PUT' ? { description: 'x' } : undefined;
    out.push({ name: `odd id ${path.slice(0, 70)}`, method, path, opts: body === undefined ? {} : { body } });
  }
  return out;
};

describe('bad input over HTTP', () => {
  it('answers every malformed, mistyped, unknown, oversized or invalid request with a 4xx and a code, recording nothing', async (t) => {
    const h = await createTestApp(t, { config: (c) => { c.http.body_limit_bytes = LIMIT; } });
    const admin = await h.tokenFor('admin');
    const ids = await world(h, admin);
    const failures: string[] = [];
    for (const c of cases(ids)) {
      const before = h.eventCount();
      const res = await h.request(c.method, c.path, { ...c.opts, token: admin });
      const code: unknown = res.body?.error?.code;
      const where = `${c.method} ${c.path.slice(0, 60)} (${c.name})`;
      if (res.status < 400 || res.status > 499) failures.push(`${where}: status ${res.status} ${res.text.slice(0, 160)}`);
      else if (c.status !== undefined && res.status !== c.status) failures.push(`${where}: status ${res.status}, expected ${c.status}: ${res.text.slice(0, 160)}`);
      if (typeof code !== 'string' || !/^MCM_ERR_[A-Z0-9_]+$/.test(code)) failures.push(`${where}: no error code in ${res.text.slice(0, 160)}`);
      else if (typeof c.code === 'string' && code !== c.code) failures.push(`${where}: code ${code}, expected ${c.code}`);
      if (typeof res.body?.error?.message !== 'string' || res.body.error.message === '') failures.push(`${where}: no message`);
      if (h.eventCount() !== before) failures.push(`${where}: recorded ${h.eventCount() - before} event(s)`);
    }
    assert.deepEqual(failures, []);
  });

  it('lists every problem of a body at once in error.details (allErrors)', async (t) => {
    const h = await createTestApp(t);
    const res = await h.request('POST', '/api/v1/mqtt-users', {
      token: await h.tokenFor('operator'),
      body: { username: 5, disabled: 'no', color: 'red' },
    });
    assert.equal(res.status, 400);
    assert.equal(res.body.error.code, 'MCM_ERR_VALIDATION');
    const details = res.body.error.details as { path: string; field?: string; keyword: string }[];
    assert.ok(details.some((d) => d.field === 'color' && d.keyword === 'additionalProperties'), res.text);
    assert.ok(details.some((d) => d.path === '/username' && d.keyword === 'type'), res.text);
    assert.ok(details.some((d) => d.path === '/disabled' && d.keyword === 'type'), res.text);
  });

  it('leaves the state and the chain intact after the barrage', async (t) => {
    const h = await createTestApp(t, { config: (c) => { c.http.body_limit_bytes = LIMIT; } });
    const admin = await h.tokenFor('admin');
    const ids = await world(h, admin);
    const snapshot = JSON.stringify(h.store.state());
    for (const c of cases(ids)) await h.request(c.method, c.path, { ...c.opts, token: admin });
    assert.equal(JSON.stringify(h.store.state()), snapshot);
    const verify = await h.request('GET', '/api/v1/events/verify', { token: admin });
    assert.equal(verify.body.ok, true);
  });
});
