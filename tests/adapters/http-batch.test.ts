/**
 * POST /api/v1/batch (issue 14 "Performance at 100,000 users"): the write operations of
 * mqtt-users, roles and acls as one append, all or nothing. The same commands as single requests
 * (compared on two apps), a refused operation named by its index with nothing appended, the role
 * floor, a generated password shown once and never recorded, and the operation limit.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BATCH_OPS } from '../../adapters/http/routes/batch-ops.ts';
import { MAX_BATCH_OPERATIONS, routes as batchRoutes } from '../../adapters/http/routes/batch.ts';
import { allRoutes } from '../../adapters/http/routes/index.ts';
import { openApiDocument, problemsWith } from '../../adapters/http/validate.ts';
import type { EventEnvelope } from '../../core/events.ts';
import type { BrokerConfig } from '../../core/state.ts';
import { createTestApp, ROLE_USERS, type TestApp } from '../helpers/http.ts';

const URL_ = '/api/v1/batch';
const AT = '2026-12-10T09:00:00.000Z';

type Call = { method: string; path: string; body?: unknown };

/** The same changes, as single requests and as batch operations. */
const SCRIPT: readonly { single: Call; op: Record<string, unknown> }[] = [
  { single: { method: 'POST', path: '/api/v1/roles', body: { name: 'sensors', rules: [{ topic: 'sensors/#', access: 'read' }] } },
    op: { op: 'define_role', body: { name: 'sensors', rules: [{ topic: 'sensors/#', access: 'read' }] } } },
  { single: { method: 'POST', path: '/api/v1/roles', body: { name: 'tmp', description: 'gone soon' } },
    op: { op: 'define_role', body: { name: 'tmp', description: 'gone soon' } } },
  { single: { method: 'POST', path: '/api/v1/mqtt-users', body: { username: 'alice', password: 'alice-pw-0123', roles: ['sensors'] } },
    op: { op: 'create_mqtt_user', body: { username: 'alice', password: 'alice-pw-0123', roles: ['sensors'] } } },
  { single: { method: 'POST', path: '/api/v1/mqtt-users', body: { username: 'bob', password: 'bob-pw-0123', description: 'a gateway' } },
    op: { op: 'create_mqtt_user', body: { username: 'bob', password: 'bob-pw-0123', description: 'a gateway' } } },
  { single: { method: 'POST', path: '/api/v1/acls', body: { principal: 'user:alice', topic: 'dev/alice/#', access: 'readwrite' } },
    op: { op: 'add_acl_rule', body: { principal: 'user:alice', topic: 'dev/alice/#', access: 'readwrite' } } },
  { single: { method: 'POST', path: '/api/v1/acls', body: { principal: 'user:bob', topic: 'dev/bob/#', access: 'read' } },
    op: { op: 'add_acl_rule', body: { principal: 'user:bob', topic: 'dev/bob/#', access: 'read' } } },
  // Rule ids are the log's: the role's rule is 1, alice's 2, bob's 3.
  { single: { method: 'PUT', path: '/api/v1/acls/3', body: { access: 'readwrite', description: 'widened' } },
    op: { op: 'change_acl_rule', id: 3, body: { access: 'readwrite', description: 'widened' } } },
  { single: { method: 'POST', path: '/api/v1/acls', body: { principal: 'anonymous', topic: 'public/#', access: 'read' } },
    op: { op: 'add_acl_rule', body: { principal: 'anonymous', topic: 'public/#', access: 'read' } } },
  { single: { method: 'DELETE', path: '/api/v1/acls/4' }, op: { op: 'remove_acl_rule', id: 4 } },
  { single: { method: 'PUT', path: '/api/v1/mqtt-users/bob', body: { roles: ['sensors', 'tmp'], disabled: true } },
    op: { op: 'update_mqtt_user', username: 'bob', body: { roles: ['sensors', 'tmp'], disabled: true } } },
  { single: { method: 'PUT', path: '/api/v1/mqtt-users/bob', body: { roles: ['sensors'] } },
    op: { op: 'update_mqtt_user', username: 'bob', body: { roles: ['sensors'] } } },
  { single: { method: 'PUT', path: '/api/v1/roles/sensors', body: { description: 'read the sensors', rules: [{ topic: 'sensors/+/temp', access: 'read' }] } },
    op: { op: 'update_role', name: 'sensors', body: { description: 'read the sensors', rules: [{ topic: 'sensors/+/temp', access: 'read' }] } } },
  { single: { method: 'DELETE', path: '/api/v1/roles/tmp' }, op: { op: 'delete_role', name: 'tmp' } },
  { single: { method: 'POST', path: '/api/v1/mqtt-users/alice/password', body: { password: 'alice-pw-4567' } },
    op: { op: 'change_mqtt_user_password', username: 'alice', body: { password: 'alice-pw-4567' } } },
  { single: { method: 'POST', path: '/api/v1/mqtt-users', body: { username: 'carol', password: 'carol-pw-0123' } },
    op: { op: 'create_mqtt_user', body: { username: 'carol', password: 'carol-pw-0123' } } },
  { single: { method: 'POST', path: '/api/v1/acls', body: { principal: 'user:carol', topic: 'dev/carol/#', access: 'deny' } },
    op: { op: 'add_acl_rule', body: { principal: 'user:carol', topic: 'dev/carol/#', access: 'deny' } } },
  { single: { method: 'DELETE', path: '/api/v1/mqtt-users/carol' }, op: { op: 'delete_mqtt_user', username: 'carol' } },
];

const app = async (t: Parameters<typeof createTestApp>[0]): Promise<{ h: TestApp; token: string }> => {
  const h = await createTestApp(t);
  h.clock.set(AT);
  return { h, token: await h.tokenFor('operator') };
};

/** Salted hashes differ between two hashings of one password; everything else must not. */
const withoutHashes = (state: BrokerConfig): unknown => JSON.parse(JSON.stringify(state, (k, v: unknown) => (k === 'passwordHash' ? '<hash>' : v)));
const comparable = (e: EventEnvelope): unknown => ({
  seq: e.seq, stream: e.stream, type: e.type, version: e.version, at: e.at,
  data: withoutHashes(e.data as unknown as BrokerConfig),
  actor: { kind: e.actor.kind, id: e.actor.id, ip: e.actor.ip },
});

describe('POST /api/v1/batch', () => {
  it('appends, in one transaction, the events the single requests append one by one', async (t) => {
    const single = await app(t);
    const batch = await app(t);
    const start = single.h.eventCount();
    assert.equal(batch.h.eventCount(), start, 'both apps start at the same head');

    for (const { single: c } of SCRIPT) {
      const res = await single.h.request(c.method, c.path, { token: single.token, ...(c.body === undefined ? {} : { body: c.body }) });
      assert.ok(res.status >= 200 && res.status < 300, `${c.method} ${c.path}: ${res.status} ${res.text}`);
    }
    let appended = 0;
    const unsubscribe = batch.h.store.onAppend(() => { appended += 1; });
    t.after(unsubscribe);
    const res = await batch.h.request('POST', URL_, { token: batch.token, body: { operations: SCRIPT.map((s) => s.op) } });
    assert.equal(res.status, 200, res.text);
    assert.equal(appended, 1, 'one append (one transaction, so one apply)');

    const singleEvents = single.h.store.read({ after: start });
    const batchEvents = batch.h.store.read({ after: start });
    assert.deepEqual(batchEvents.map(comparable), singleEvents.map(comparable));
    assert.equal(res.body.events_count, batchEvents.length);
    assert.equal(res.body.seq, batch.h.eventCount());
    assert.equal(res.headers.get('etag'), `"${batch.h.eventCount()}"`);
    assert.equal(new Set(batchEvents.map((e) => e.actor.request_id)).size, 1, 'one request');
    for (const e of batchEvents) assert.deepEqual([e.actor.kind, e.actor.id], ['admin', ROLE_USERS.operator], 'the admin is the actor');
    // The MQTT side of the state (the helper's admin users were created before the clock was set).
    const mqtt = (s: BrokerConfig): unknown => withoutHashes({ ...s, adminUsers: {} });
    assert.deepEqual(mqtt(batch.h.store.state()), mqtt(single.h.store.state()));

    // Hashed as the single route hashes: a `$7$` of the last password given.
    const hash = batch.h.store.state().users['alice']?.passwordHash ?? '';
    assert.match(hash, /^\$7\$101\$/);
    assert.equal(await batch.h.deps.mqttHasher.verify('alice-pw-4567', hash), true);

    assert.deepEqual(res.body.results.map((r: Record<string, unknown>) => r['op']), SCRIPT.map((s) => s.op['op']));
    assert.deepEqual(res.body.results.map((r: Record<string, unknown>) => r['index']), SCRIPT.map((_, i) => i));
    assert.deepEqual(res.body.results[4], { op: 'add_acl_rule', index: 4, id: 2 }, 'a new rule is named by its id');
    assert.deepEqual(res.body.results[2], { op: 'create_mqtt_user', index: 2, username: 'alice' }, 'a given password is not echoed');
    assert.deepEqual(problemsWith('BatchResult', res.body), [], 'the documented response');
  });

  it('refuses a batch with an invalid operation in the middle, naming its index, and appends nothing', async (t) => {
    const { h, token } = await app(t);
    const before = h.eventCount();
    const operations = [
      { op: 'create_mqtt_user', body: { username: 'a1' } },
      { op: 'add_acl_rule', body: { principal: 'user:a1', topic: 'a/#', access: 'readwrite' } },
      { op: 'add_acl_rule', body: { principal: 'user:a1', topic: 'b/#', access: 'all', extra: 1 } },
      { op: 'create_mqtt_user', body: { username: 'a2' } },
      { op: 'rename_mqtt_user', username: 'a2' },
    ];
    const res = await h.request('POST', URL_, { token, body: { operations } });
    assert.equal(res.status, 400, res.text);
    assert.equal(res.body.error.code, 'MCM_ERR_VALIDATION');
    assert.match(res.body.error.message, /operation 2 \(add_acl_rule\)/);
    assert.deepEqual(res.body.error.details.map((d: Record<string, unknown>) => [d['index'], d['op'], d['code'], d['path']]), [
      [2, 'add_acl_rule', 'MCM_ERR_VALIDATION', '/body'],
      [2, 'add_acl_rule', 'MCM_ERR_VALIDATION', '/body/access'],
      [4, 'rename_mqtt_user', 'MCM_ERR_VALIDATION', '/'],
    ]);
    assert.equal(res.body.error.details[0].message, 'unknown field "extra"');
    assert.match(res.body.error.details[2].message, /^op must be one of create_mqtt_user, /);
    assert.equal(h.eventCount(), before);
  });

  it('refuses a batch whose operation the configuration refuses, with that operation\'s code and index, and appends nothing', async (t) => {
    const { h, token } = await app(t);
    const before = h.eventCount();
    const res = await h.request('POST', URL_, { token, body: { operations: [
      { op: 'create_mqtt_user', body: { username: 'dup', password: 'dup-pw-0123' } },
      { op: 'add_acl_rule', body: { principal: 'user:dup', topic: 'a/#', access: 'read' } },
      { op: 'create_mqtt_user', body: { username: 'dup', password: 'dup-pw-4567' } },
    ] } });
    assert.equal(res.status, 409, res.text);
    assert.equal(res.body.error.code, 'MCM_ERR_MQTT_USER_EXISTS');
    assert.match(res.body.error.message, /^operation 2 \(create_mqtt_user\) was refused, so nothing was changed: MQTT user "dup" already exists/);
    assert.deepEqual(res.body.error.details.map((d: Record<string, unknown>) => [d['index'], d['op'], d['code']]), [[2, 'create_mqtt_user', 'MCM_ERR_MQTT_USER_EXISTS']]);
    assert.equal(h.eventCount(), before);

    const missing = await h.request('POST', URL_, { token, body: { operations: [
      { op: 'create_mqtt_user', body: { username: 'x1', roles: ['nope'] } },
    ] } });
    assert.equal(missing.status, 404, missing.text);
    assert.equal(missing.body.error.details[0].index, 0);
    assert.equal(missing.body.error.details[0].code, 'MCM_ERR_ROLE_NOT_FOUND');

    const reserved = await h.request('POST', URL_, { token, body: { operations: [
      { op: 'define_role', body: { name: 'r' } },
      { op: 'create_mqtt_user', body: { username: h.deps.serviceAccount } },
    ] } });
    assert.equal(reserved.status, 409, reserved.text);
    assert.equal(reserved.body.error.code, 'MCM_ERR_USERNAME_RESERVED');
    assert.equal(reserved.body.error.details[0].index, 1);
    assert.equal(h.eventCount(), before);
  });

  it('shows a generated password once, in its operation\'s result, and records only its hash', async (t) => {
    const { h, token } = await app(t);
    const before = h.eventCount();
    const res = await h.request('POST', URL_, { token, body: { operations: [
      { op: 'create_mqtt_user', body: { username: 'gen' } },
      { op: 'create_mqtt_user', body: { username: 'given', password: 'given-pw-0123' } },
      { op: 'change_mqtt_user_password', username: 'given' },
    ] } });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const [created, , changed] = res.body.results as { password?: string }[];
    assert.match(created?.password ?? '', /^[A-Za-z0-9_-]{24}$/);
    assert.match(changed?.password ?? '', /^[A-Za-z0-9_-]{24}$/);
    assert.equal(res.body.results[1].password, undefined);
    assert.equal(res.text.split(created?.password ?? '').length, 2, 'once in the response');
    const state = h.store.state();
    assert.equal(await h.deps.mqttHasher.verify(created?.password ?? '', state.users['gen']?.passwordHash ?? ''), true);
    assert.equal(await h.deps.mqttHasher.verify(changed?.password ?? '', state.users['given']?.passwordHash ?? ''), true);
    const logged = JSON.stringify(h.store.read({ after: before }));
    for (const pw of [created?.password, changed?.password, 'given-pw-0123']) assert.equal(logged.includes(pw ?? '?'), false, 'never in the events');
  });

  it('requires operator — the highest minimum role of the routes its operations stand for', async (t) => {
    const { h } = await app(t);
    const byRoute = new Map(allRoutes().map((r) => [`${r.method} ${r.path}`, r.minRole]));
    for (const [op, spec] of Object.entries(BATCH_OPS)) assert.equal(byRoute.get(spec.route), 'operator', `${op} stands for ${spec.route}`);
    assert.equal(batchRoutes[0]?.minRole, 'operator');
    const before = h.eventCount();
    for (const role of ['viewer', 'auditor'] as const) {
      const res = await h.request('POST', URL_, { token: await h.tokenFor(role), body: { operations: [{ op: 'create_mqtt_user', body: { username: `u-${role}` } }] } });
      assert.equal(res.status, 403, res.text);
      assert.equal(res.body.error.code, 'MCM_ERR_FORBIDDEN');
    }
    assert.equal(h.eventCount(), before);
  });

  it('refuses with 412 when anything changed after the If-Match seq', async (t) => {
    const { h, token } = await app(t);
    const seq = h.eventCount();
    const ok = await h.request('POST', '/api/v1/roles', { token, body: { name: 'other' } });
    assert.equal(ok.status, 201);
    const res = await h.request('POST', URL_, { token, headers: { 'if-match': `"${seq}"` }, body: { operations: [{ op: 'define_role', body: { name: 'late' } }] } });
    assert.equal(res.status, 412, res.text);
    assert.equal(res.body.error.code, 'MCM_ERR_STALE_STREAM');
    assert.equal(h.eventCount(), seq + 1);
  });

  it(`takes bodies over http.body_limit_bytes, but at most ${MAX_BATCH_OPERATIONS.toLocaleString('en')} operations and 64 MiB`, async (t) => {
    const { h, token } = await app(t);
    const before = h.eventCount();
    const tooMany = Array.from({ length: MAX_BATCH_OPERATIONS + 1 }, () => ({ op: 'delete_role', name: 'x' }));
    const res = await h.request('POST', URL_, { token, body: { operations: tooMany } });
    assert.equal(res.status, 413, res.text.slice(0, 300));
    assert.equal(res.body.error.code, 'MCM_ERR_BATCH_TOO_LARGE');
    assert.deepEqual(res.body.error.details, [{ limit: MAX_BATCH_OPERATIONS, operations: MAX_BATCH_OPERATIONS + 1 }]);

    const tooBig = await h.request('POST', URL_, { token, rawBody: new Uint8Array(64 * 1024 * 1024 + 1), headers: { 'content-type': 'application/json' } });
    assert.equal(tooBig.status, 413);
    assert.equal(tooBig.body.error.code, 'MCM_ERR_BODY_TOO_LARGE');
    assert.equal(h.eventCount(), before);
  });
});

describe('POST /api/v1/batch in docs/openapi.yaml', () => {
  const doc = openApiDocument() as Record<string, any>;
  it('checks each operation\'s body with the schema of the single route it stands for', () => {
    const variants = (doc.components.schemas.BatchOperation.oneOf as { $ref: string }[]).map((r) => r.$ref.split('/').pop());
    assert.deepEqual(variants, Object.values(BATCH_OPS).map((s) => s.schema), 'one variant per operation');
    for (const [op, spec] of Object.entries(BATCH_OPS)) {
      const variant = doc.components.schemas[spec.schema];
      assert.equal(variant.properties.op.const, op);
      const [method = '', path = ''] = spec.route.split(' ');
      const single = doc.paths[path][method.toLowerCase()];
      assert.equal(variant.properties.body?.$ref, single.requestBody?.content['application/json'].schema.$ref, `${op}: the body of ${spec.route}`);
      for (const param of path.match(/\{(\w+)\}/g) ?? []) assert.ok(variant.required.includes(param.slice(1, -1)), `${op} requires ${param}`);
    }
  });
});
