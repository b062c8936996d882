/**
 * /api/v1/roles and /api/v1/acls (DESIGN §5, §8): roles are named rule sets whose rules are ACL
 * rules with principal `role:<name>` (one store); ACL topic filters are validated as Mosquitto
 * validates them; explain and "who can" use the broker's own evaluation order.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createTestApp, type TestApp } from '../helpers/http.ts';

const setup = async (t: Parameters<typeof createTestApp>[0]): Promise<{ h: TestApp; op: string; aud: string; viewer: string }> => {
  const h = await createTestApp(t);
  return { h, op: await h.tokenFor('operator'), aud: await h.tokenFor('auditor'), viewer: await h.tokenFor('viewer') };
};

describe('/roles', () => {
  it('creates a role with its rules in one append; the rules are ACL rules with principal role:<name>', async (t) => {
    const { h, op, aud } = await setup(t);
    const before = h.eventCount();
    const res = await h.request('POST', '/api/v1/roles', {
      token: op,
      body: { name: 'sensors', description: 'field devices', rules: [{ topic: 'plant/+/temp', access: 'write' }, { topic: 'cmd/#', access: 'read' }] },
    });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.headers.get('location'), '/api/v1/roles/sensors');
    assert.equal(res.headers.get('etag'), `"${h.store.headSeq()}"`);
    assert.equal(res.body.name, 'sensors');
    assert.equal(res.body.description, 'field devices');
    assert.deepEqual(res.body.users, []);
    assert.deepEqual(res.body.rules.map((r: { principal: string; topic: string; access: string }) => [r.principal, r.topic, r.access]), [
      ['role:sensors', 'plant/+/temp', 'write'],
      ['role:sensors', 'cmd/#', 'read'],
    ]);
    assert.equal(h.store.read({ after: before }).length, 3, 'RoleDefined + two AclRuleAdded');
    const acls = await h.request('GET', '/api/v1/acls?principal=role%3Asensors', { token: aud });
    assert.equal(acls.body.items.length, 2);
  });

  it('lists roles by name with their users and rule counts, and shows one with GET /roles/{name}', async (t) => {
    const { h, op, aud } = await setup(t);
    await h.request('POST', '/api/v1/roles', { token: op, body: { name: 'b', rules: [{ topic: 'b/#', access: 'read' }] } });
    await h.request('POST', '/api/v1/roles', { token: op, body: { name: 'a' } });
    await h.request('POST', '/api/v1/mqtt-users', { token: op, body: { username: 'dev', roles: ['b'] } });
    const list = await h.request('GET', '/api/v1/roles', { token: aud });
    assert.deepEqual(list.body.items.map((r: { name: string; users: string[]; rule_count: number }) => [r.name, r.users, r.rule_count]), [
      ['a', [], 0],
      ['b', ['dev'], 1],
    ]);
    const one = await h.request('GET', '/api/v1/roles/b', { token: aud });
    assert.equal(one.status, 200);
    assert.deepEqual(one.body.users, ['dev']);
    const missing = await h.request('GET', '/api/v1/roles/zzz', { token: aud });
    assert.deepEqual([missing.status, missing.body.error.code], [404, 'MCM_ERR_ROLE_NOT_FOUND']);
  });

  it('replaces the rule set on PUT, keeping the ids of unchanged rules', async (t) => {
    const { h, op } = await setup(t);
    const created = await h.request('POST', '/api/v1/roles', { token: op, body: { name: 'r', rules: [{ topic: 'keep/#', access: 'read' }, { topic: 'drop/#', access: 'read' }] } });
    const keepId = created.body.rules[0].id;
    const res = await h.request('PUT', '/api/v1/roles/r', { token: op, body: { description: 'v2', rules: [{ topic: 'keep/#', access: 'read' }, { topic: 'new/#', access: 'write' }] } });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.description, 'v2');
    assert.deepEqual(res.body.rules.map((r: { topic: string }) => r.topic).sort(), ['keep/#', 'new/#']);
    assert.equal(res.body.rules.find((r: { topic: string }) => r.topic === 'keep/#').id, keepId);
  });

  it('refuses to delete a role while granted (409 MCM_ERR_ROLE_IN_USE), then deletes it and its rules (204)', async (t) => {
    const { h, op, aud } = await setup(t);
    await h.request('POST', '/api/v1/roles', { token: op, body: { name: 'r', rules: [{ topic: 'x/#', access: 'read' }] } });
    await h.request('POST', '/api/v1/mqtt-users', { token: op, body: { username: 'dev', roles: ['r'] } });
    const before = h.eventCount();
    const inUse = await h.request('DELETE', '/api/v1/roles/r', { token: op });
    assert.deepEqual([inUse.status, inUse.body.error.code], [409, 'MCM_ERR_ROLE_IN_USE']);
    assert.equal(h.eventCount(), before);
    await h.request('PUT', '/api/v1/mqtt-users/dev', { token: op, body: { roles: [] } });
    const del = await h.request('DELETE', '/api/v1/roles/r', { token: op });
    assert.equal(del.status, 204, del.text);
    const acls = await h.request('GET', '/api/v1/acls?principal=role%3Ar', { token: aud });
    assert.deepEqual(acls.body.items, []);
  });

  it('refuses invalid role names and rule topics with 400 and records nothing', async (t) => {
    const { h, op } = await setup(t);
    const before = h.eventCount();
    const badName = await h.request('POST', '/api/v1/roles', { token: op, body: { name: 'a b' } });
    assert.deepEqual([badName.status, badName.body.error.code], [400, 'MCM_ERR_ROLE_NAME_INVALID']);
    const badTopic = await h.request('POST', '/api/v1/roles', { token: op, body: { name: 'ok', rules: [{ topic: 'a/#/b', access: 'read' }] } });
    assert.deepEqual([badTopic.status, badTopic.body.error.code], [400, 'MCM_ERR_TOPIC_FILTER_INVALID']);
    assert.equal(h.eventCount(), before);
  });
});

describe('/acls', () => {
  it('adds a rule (201 {id, principal, topic, access, description, created_at}) and reads it back', async (t) => {
    const { h, op, aud } = await setup(t);
    const res = await h.request('POST', '/api/v1/acls', { token: op, body: { principal: 'anonymous', topic: 'public/#', access: 'read', description: 'open data' } });
    assert.equal(res.status, 201, res.text);
    assert.equal(typeof res.body.id, 'number');
    assert.deepEqual(
      [res.body.principal, res.body.topic, res.body.access, res.body.description, typeof res.body.created_at],
      ['anonymous', 'public/#', 'read', 'open data', 'string'],
    );
    assert.equal(res.headers.get('location'), `/api/v1/acls/${res.body.id}`);
    const got = await h.request('GET', `/api/v1/acls/${res.body.id}`, { token: aud });
    assert.deepEqual(got.body, res.body);
  });

  it('filters the list by exact principal and topic, sorted by id and paged', async (t) => {
    const { h, op, aud } = await setup(t);
    await h.request('POST', '/api/v1/mqtt-users', { token: op, body: { username: 'alice' } });
    for (const [principal, topic] of [['user:alice', 'a/#'], ['anonymous', 'a/#'], ['user:alice', 'b/#'], ['pattern', 'dev/%u/#']]) {
      const r = await h.request('POST', '/api/v1/acls', { token: op, body: { principal, topic, access: 'read' } });
      assert.equal(r.status, 201, r.text);
    }
    const alice = await h.request('GET', '/api/v1/acls?principal=user%3Aalice', { token: aud });
    assert.deepEqual(alice.body.items.map((r: { topic: string }) => r.topic), ['a/#', 'b/#']);
    const aTopic = await h.request('GET', `/api/v1/acls?topic=${encodeURIComponent('a/#')}`, { token: aud });
    assert.deepEqual(aTopic.body.items.map((r: { principal: string }) => r.principal), ['user:alice', 'anonymous']);
    const page1 = await h.request('GET', '/api/v1/acls?limit=3', { token: aud });
    assert.equal(page1.body.items.length, 3);
    const page2 = await h.request('GET', `/api/v1/acls?limit=3&cursor=${page1.body.next}`, { token: aud });
    assert.deepEqual(page2.body.items.map((r: { topic: string }) => r.topic), ['dev/%u/#']);
    assert.equal(page2.body.next, null);
  });

  it('changes and removes a rule; an unknown id is 404, a non-numeric one 400', async (t) => {
    const { h, op, aud } = await setup(t);
    const { body } = await h.request('POST', '/api/v1/acls', { token: op, body: { principal: 'anonymous', topic: 'a', access: 'read' } });
    const put = await h.request('PUT', `/api/v1/acls/${body.id}`, { token: op, body: { topic: 'b/+', access: 'deny' } });
    assert.equal(put.status, 200, put.text);
    assert.deepEqual([put.body.topic, put.body.access], ['b/+', 'deny']);
    assert.equal((await h.request('DELETE', `/api/v1/acls/${body.id}`, { token: op })).status, 204);
    const gone = await h.request('GET', `/api/v1/acls/${body.id}`, { token: aud });
    assert.deepEqual([gone.status, gone.body.error.code], [404, 'MCM_ERR_ACL_RULE_NOT_FOUND']);
    const nan = await h.request('GET', '/api/v1/acls/abc', { token: aud });
    assert.deepEqual([nan.status, nan.body.error.code], [400, 'MCM_ERR_VALIDATION']);
  });

  it('refuses topic filters Mosquitto would reject, unknown access words and principals, recording nothing [MQTT-4.7.1-2]', async (t) => {
    const { h, op } = await setup(t);
    const before = h.eventCount();
    const cases: [unknown, string][] = [
      [{ principal: 'anonymous', topic: 'a/#/b', access: 'read' }, 'MCM_ERR_TOPIC_FILTER_INVALID'],
      [{ principal: 'anonymous', topic: 'a/b+', access: 'read' }, 'MCM_ERR_TOPIC_FILTER_INVALID'],
      [{ principal: 'anonymous', topic: 'a\nuser evil', access: 'read' }, 'MCM_ERR_TOPIC_FILTER_INVALID'],
      [{ principal: 'anonymous', topic: 'a', access: 'all' }, 'MCM_ERR_VALIDATION'],
      [{ principal: 'group:x', topic: 'a', access: 'read' }, 'MCM_ERR_VALIDATION'],
    ];
    for (const [body, code] of cases) {
      const res = await h.request('POST', '/api/v1/acls', { token: op, body });
      assert.deepEqual([res.status, res.body.error?.code], [400, code], JSON.stringify(body));
    }
    assert.equal(h.eventCount(), before);
  });
});

describe('POST /acls/explain and GET /acls/who (viewer)', () => {
  const world = async (h: TestApp, op: string): Promise<number> => {
    await h.request('POST', '/api/v1/roles', { token: op, body: { name: 'readers', rules: [{ topic: 'plant/#', access: 'read' }] } });
    await h.request('POST', '/api/v1/mqtt-users', { token: op, body: { username: 'alice', roles: ['readers'] } });
    await h.request('POST', '/api/v1/mqtt-users', { token: op, body: { username: 'bob' } });
    const deny = await h.request('POST', '/api/v1/acls', { token: op, body: { principal: 'user:bob', topic: 'plant/secret', access: 'deny' } });
    await h.request('POST', '/api/v1/acls', { token: op, body: { principal: 'user:bob', topic: 'plant/#', access: 'read' } });
    return deny.body.id as number;
  };

  it('explains an allow through a role, naming the rule and where it came from', async (t) => {
    const { h, op, viewer } = await setup(t);
    await world(h, op);
    const res = await h.request('POST', '/api/v1/acls/explain', { token: viewer, body: { username: 'alice', topic: 'plant/1/temp', action: 'read' } });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.allowed, true);
    assert.equal(typeof res.body.reason, 'string');
    assert.deepEqual(res.body.matched.map((m: { principal: string; topic: string; source: string }) => [m.principal, m.topic, m.source]), [
      ['role:readers', 'plant/#', 'role:readers'],
    ]);
    assert.equal(res.headers.get('etag'), `"${h.store.headSeq()}"`);
  });

  it('explains a deny line winning for the same user, and refuses anonymous clients with no rules [ref §2.3]', async (t) => {
    const { h, op, viewer } = await setup(t);
    const denyId = await world(h, op);
    const bob = await h.request('POST', '/api/v1/acls/explain', { token: viewer, body: { username: 'bob', topic: 'plant/secret', action: 'read' } });
    assert.equal(bob.body.allowed, false);
    assert.ok(bob.body.matched.some((m: { id?: number }) => m.id === denyId), bob.text);
    const anon = await h.request('POST', '/api/v1/acls/explain', { token: viewer, body: { topic: 'plant/1', action: 'write' } });
    assert.equal(anon.status, 200, anon.text);
    assert.equal(anon.body.allowed, false);
  });

  it('refuses a wildcard in the explained topic name (400) and a missing action', async (t) => {
    const { h, viewer } = await setup(t);
    const wild = await h.request('POST', '/api/v1/acls/explain', { token: viewer, body: { topic: 'a/#', action: 'read' } });
    assert.deepEqual([wild.status, wild.body.error.code], [400, 'MCM_ERR_TOPIC_NAME_INVALID']);
    const noAction = await h.request('POST', '/api/v1/acls/explain', { token: viewer, body: { topic: 'a' } });
    assert.deepEqual([noAction.status, noAction.body.error.code], [400, 'MCM_ERR_VALIDATION']);
  });

  it('answers who can read a topic with the same evaluator', async (t) => {
    const { h, op, viewer } = await setup(t);
    await world(h, op);
    const res = await h.request('GET', `/api/v1/acls/who?topic=${encodeURIComponent('plant/1/temp')}&action=read`, { token: viewer });
    assert.equal(res.status, 200, res.text);
    // MCM's own service account may read everything not under '$', and is listed (marked) last.
    assert.deepEqual(res.body.users.map((u: { username: string; mcm_service_account?: true }) => [u.username, u.mcm_service_account ?? false]),
      [['alice', false], ['bob', false], ['mcm-service', true]]);
    assert.equal(res.body.anonymous, false);
    const secret = await h.request('GET', `/api/v1/acls/who?topic=${encodeURIComponent('plant/secret')}&action=read`, { token: viewer });
    assert.deepEqual(secret.body.users.map((u: { username: string }) => u.username), ['alice', 'mcm-service']);
    for (const q of ['topic=a', 'action=read', 'topic=a&action=delete']) {
      const bad = await h.request('GET', `/api/v1/acls/who?${q}`, { token: viewer });
      assert.deepEqual([bad.status, bad.body.error.code], [400, 'MCM_ERR_VALIDATION'], q);
    }
  });
});
