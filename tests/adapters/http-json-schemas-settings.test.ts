/**
 * /api/v1/json-schemas (DESIGN §5: observe-only payload schemas, compiled with ajv when written)
 * and /api/v1/settings (anonymous access, `$7$` iterations; changed by admins only).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createTestApp } from '../helpers/http.ts';

const TEMP = { type: 'object', properties: { t: { type: 'number' } }, required: ['t'] };

describe('/json-schemas', () => {
  it('attaches a schema (201), lists it by id and shows it in snake_case', async (t) => {
    const h = await createTestApp(t);
    const op = await h.tokenFor('operator');
    const aud = await h.tokenFor('auditor');
    const res = await h.request('POST', '/api/v1/json-schemas', { token: op, body: { name: 'temp', topic_filter: 'plant/+/temp', schema: TEMP, description: 'd' } });
    assert.equal(res.status, 201, res.text);
    assert.deepEqual(
      [res.body.name, res.body.topic_filter, res.body.schema, res.body.enabled, res.body.description],
      ['temp', 'plant/+/temp', TEMP, true, 'd'],
    );
    assert.equal(res.headers.get('location'), `/api/v1/json-schemas/${res.body.id}`);
    const list = await h.request('GET', '/api/v1/json-schemas', { token: aud });
    assert.deepEqual(list.body.items.map((s: { id: number }) => s.id), [res.body.id]);
    const one = await h.request('GET', `/api/v1/json-schemas/${res.body.id}`, { token: aud });
    assert.deepEqual(one.body, res.body);
  });

  it('refuses a schema ajv cannot compile with 400 MCM_ERR_SCHEMA_INVALID carrying ajv\'s message, recording nothing', async (t) => {
    const h = await createTestApp(t);
    const op = await h.tokenFor('operator');
    const before = h.eventCount();
    const res = await h.request('POST', '/api/v1/json-schemas', { token: op, body: { name: 'bad', topic_filter: 'a/#', schema: { type: 'nonsense' } } });
    assert.deepEqual([res.status, res.body.error.code], [400, 'MCM_ERR_SCHEMA_INVALID']);
    assert.match(res.body.error.message, /schema is invalid|must be equal to one of the allowed values/);
    const ref = await h.request('POST', '/api/v1/json-schemas', { token: op, body: { name: 'bad', topic_filter: 'a/#', schema: { $ref: '#/nowhere' } } });
    assert.deepEqual([ref.status, ref.body.error.code], [400, 'MCM_ERR_SCHEMA_INVALID']);
    const deep = await h.request('POST', '/api/v1/json-schemas', {
      token: op,
      rawBody: `{"name":"deep","topic_filter":"a","schema":${'{"not":'.repeat(3000)}{}${'}'.repeat(3000)}}`,
      headers: { 'content-type': 'application/json' },
    });
    assert.deepEqual([deep.status, deep.body.error.code], [400, 'MCM_ERR_SCHEMA_INVALID']);
    assert.match(deep.body.error.message, /nested at most 128 levels/, 'refused before ajv recurses into it');
    assert.equal(h.eventCount(), before);
  });

  it('refuses an asynchronous schema ($async: true) on POST, PUT and GitOps plan: its validator returns a promise the observer would leave unhandled', async (t) => {
    // Found while building the API fuzzer's hostile inputs (bench/reliability/fuzz-values.ts): such a
    // schema was accepted, and the first matching payload that failed it ended the server with an
    // unhandled promise rejection.
    const h = await createTestApp(t);
    const op = await h.tokenFor('operator');
    const ASYNC = { $async: true, type: 'object', required: ['v'] };
    const before = h.eventCount();
    const res = await h.request('POST', '/api/v1/json-schemas', { token: op, body: { name: 'async', topic_filter: 'a/#', schema: ASYNC } });
    assert.deepEqual([res.status, res.body.error.code], [400, 'MCM_ERR_SCHEMA_INVALID'], res.text);
    assert.match(res.body.error.message, /\$async/);
    assert.equal(h.eventCount(), before);
    const ok = await h.request('POST', '/api/v1/json-schemas', { token: op, body: { name: 'sync', topic_filter: 'a/#', schema: TEMP } });
    assert.equal(ok.status, 201, ok.text);
    const put = await h.request('PUT', `/api/v1/json-schemas/${ok.body.id}`, { token: op, body: { schema: ASYNC } });
    assert.deepEqual([put.status, put.body.error.code], [400, 'MCM_ERR_SCHEMA_INVALID'], put.text);
    const plan = await h.request('POST', '/api/v1/plan', {
      token: await h.tokenFor('admin'),
      body: { bundle: { version: 1, settings: { allow_anonymous: false, hash_iterations: 101 }, users: [], roles: [], acls: [], schemas: [{ name: 'async', topic_filter: 'a/#', enabled: true, description: '', schema: ASYNC }] } },
    });
    assert.equal(plan.status, 400, plan.text);
    assert.match(plan.text, /\$async/);
  });

  it('compiles draft-07 by default and 2020-12 when $schema says so', async (t) => {
    const h = await createTestApp(t);
    const op = await h.tokenFor('operator');
    const d7 = await h.request('POST', '/api/v1/json-schemas', {
      token: op, body: { name: 'd7', topic_filter: 'a', schema: { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object', definitions: { x: { type: 'string' } } } },
    });
    assert.equal(d7.status, 201, d7.text);
    const d2020 = await h.request('POST', '/api/v1/json-schemas', {
      token: op, body: { name: 'd2020', topic_filter: 'b', schema: { $schema: 'https://json-schema.org/draft/2020-12/schema', prefixItems: [{ type: 'number' }] } },
    });
    assert.equal(d2020.status, 201, d2020.text);
  });

  it('changes, disables and detaches a schema; an invalid new schema or topic filter is refused', async (t) => {
    const h = await createTestApp(t);
    const op = await h.tokenFor('operator');
    const { body } = await h.request('POST', '/api/v1/json-schemas', { token: op, body: { name: 'temp', topic_filter: 'a/#', schema: TEMP } });
    const put = await h.request('PUT', `/api/v1/json-schemas/${body.id}`, { token: op, body: { name: 'temp2', enabled: false, schema: true } });
    assert.equal(put.status, 200, put.text);
    assert.deepEqual([put.body.name, put.body.enabled, put.body.schema], ['temp2', false, true]);
    const badSchema = await h.request('PUT', `/api/v1/json-schemas/${body.id}`, { token: op, body: { schema: { minimum: 'x' } } });
    assert.deepEqual([badSchema.status, badSchema.body.error.code], [400, 'MCM_ERR_SCHEMA_INVALID']);
    const badFilter = await h.request('PUT', `/api/v1/json-schemas/${body.id}`, { token: op, body: { topic_filter: 'a/#/b' } });
    assert.deepEqual([badFilter.status, badFilter.body.error.code], [400, 'MCM_ERR_TOPIC_FILTER_INVALID']);
    assert.equal((await h.request('DELETE', `/api/v1/json-schemas/${body.id}`, { token: op })).status, 204);
    const gone = await h.request('GET', `/api/v1/json-schemas/${body.id}`, { token: op });
    assert.deepEqual([gone.status, gone.body.error.code], [404, 'MCM_ERR_SCHEMA_NOT_FOUND']);
  });
});

describe('/settings', () => {
  it('reads the defaults (anonymous off, 101 iterations) with the state seq as ETag', async (t) => {
    const h = await createTestApp(t);
    const res = await h.request('GET', '/api/v1/settings', { token: await h.tokenFor('auditor') });
    assert.deepEqual(res.body, { allow_anonymous: false, hash_iterations: 101 });
    assert.equal(res.headers.get('etag'), `"${h.store.headSeq()}"`);
  });

  it('lets an admin change them; an invalid iteration count is refused', async (t) => {
    const h = await createTestApp(t);
    const admin = await h.tokenFor('admin');
    const res = await h.request('PUT', '/api/v1/settings', { token: admin, body: { allow_anonymous: true, hash_iterations: 2000 } });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body, { allow_anonymous: true, hash_iterations: 2000 });
    const before = h.eventCount();
    for (const hash_iterations of [0, -1, 1.5, '100']) {
      const bad = await h.request('PUT', '/api/v1/settings', { token: admin, body: { hash_iterations } });
      assert.equal(bad.status, 400, `${hash_iterations}: ${bad.text}`);
    }
    assert.equal(h.eventCount(), before);
  });
});
