/**
 * The log as seen over HTTP (DESIGN §4): /events (secrets redacted), /events/verify (the hash
 * chain), /state?at=SEQ (time travel), /audit-events (who did what) and /security/events.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createTestApp, ROLE_USERS, type TestApp } from '../helpers/http.ts';

const setup = async (t: Parameters<typeof createTestApp>[0]): Promise<{ h: TestApp; op: string; aud: string }> => {
  const h = await createTestApp(t);
  return { h, op: await h.tokenFor('operator'), aud: await h.tokenFor('auditor') };
};

describe('GET /events', () => {
  it('pages through events in seq order with their chain hashes and every secret in data redacted', async (t) => {
    const { h, op, aud } = await setup(t);
    await h.request('POST', '/api/v1/mqtt-users', { token: op, body: { username: 'alice', password: 'pw' } });
    const all = await h.request('GET', '/api/v1/events?limit=1000', { token: aud });
    assert.equal(all.status, 200, all.text);
    const seqs = all.body.items.map((e: { seq: number }) => e.seq);
    assert.deepEqual(seqs, Array.from({ length: h.store.headSeq() }, (_, i) => i + 1));
    assert.ok(!all.text.includes('$7$') && !all.text.includes('$2b$'), 'no password hash of any kind');
    const created = all.body.items.find((e: { type: string }) => e.type === 'MqttUserCreated');
    assert.equal(created.data.passwordHash, '[redacted]');
    assert.equal(created.data.username, 'alice');
    assert.match(created.hash, /^[0-9a-f]{64}$/);
    assert.match(created.prev_hash, /^[0-9a-f]{64}$/);

    const page = await h.request('GET', '/api/v1/events?limit=2', { token: aud });
    assert.deepEqual(page.body.items.map((e: { seq: number }) => e.seq), [1, 2]);
    const next = await h.request('GET', `/api/v1/events?limit=2&cursor=${page.body.next}`, { token: aud });
    assert.deepEqual(next.body.items.map((e: { seq: number }) => e.seq), [3, 4]);
    const after = await h.request('GET', `/api/v1/events?after=${h.store.headSeq() - 1}`, { token: aud });
    assert.deepEqual(after.body.items.map((e: { seq: number }) => e.seq), [h.store.headSeq()]);
    assert.equal(after.body.next, null);
  });

  it('filters by stream', async (t) => {
    const { h, op, aud } = await setup(t);
    await h.request('POST', '/api/v1/mqtt-users', { token: op, body: { username: 'alice' } });
    await h.request('POST', '/api/v1/mqtt-users', { token: op, body: { username: 'bob' } });
    await h.request('PUT', '/api/v1/mqtt-users/alice', { token: op, body: { description: 'x' } });
    const res = await h.request('GET', `/api/v1/events?stream=${encodeURIComponent('mqtt-user:alice')}`, { token: aud });
    assert.deepEqual(res.body.items.map((e: { type: string }) => e.type), ['MqttUserCreated', 'MqttUserDescribed']);
  });
});

describe('GET /events/verify', () => {
  it('reports an intact chain, then names the first tampered seq', async (t) => {
    const { h, op, aud } = await setup(t);
    await h.request('POST', '/api/v1/mqtt-users', { token: op, body: { username: 'alice' } });
    const ok = await h.request('GET', '/api/v1/events/verify', { token: aud });
    assert.equal(ok.status, 200);
    assert.equal(ok.body.ok, true);
    assert.equal(ok.body.count, h.store.headSeq());
    h.db.prepare("UPDATE events SET data = replace(data, 'alice', 'mallory') WHERE type = 'MqttUserCreated'").run();
    const bad = await h.request('GET', '/api/v1/events/verify', { token: aud });
    assert.equal(bad.body.ok, false);
    const seq = h.store.read().find((e) => e.type === 'MqttUserCreated')?.seq;
    assert.equal(bad.body.first_bad_seq, seq);
  });
});

describe('GET /state?at=SEQ (time travel)', () => {
  it('shows users, rules, settings and the rendered files as of a past seq, hashes redacted', async (t) => {
    const { h, op, aud } = await setup(t);
    await h.request('POST', '/api/v1/mqtt-users', { token: op, body: { username: 'alice', password: 'pw' } });
    await h.request('POST', '/api/v1/acls', { token: op, body: { principal: 'user:alice', topic: 'alice/#', access: 'readwrite' } });
    const then = h.store.headSeq();
    await h.request('DELETE', '/api/v1/mqtt-users/alice', { token: op });
    await h.request('POST', '/api/v1/mqtt-users', { token: op, body: { username: 'bob', password: 'pw' } });

    const past = await h.request('GET', `/api/v1/state?at=${then}`, { token: aud });
    assert.equal(past.status, 200, past.text);
    assert.equal(past.headers.get('etag'), `"${then}"`);
    assert.equal(past.body.seq, then);
    assert.deepEqual(past.body.users.map((u: { username: string }) => u.username), ['alice']);
    assert.deepEqual(past.body.rules.map((r: { topic: string }) => r.topic), ['alice/#']);
    assert.deepEqual(past.body.settings, { allow_anonymous: false, hash_iterations: 101 });
    assert.match(past.body.password_file, /^alice:\[redacted\]$/m);
    assert.ok(past.body.password_file.includes(`${h.deps.serviceAccount}:[redacted]`));
    assert.ok(!past.text.includes('$7$'), 'no hash in the view');
    assert.match(past.body.acl_file, /^user alice\ntopic readwrite alice\/#$/m);

    const now = await h.request('GET', '/api/v1/state', { token: aud });
    assert.deepEqual(now.body.users.map((u: { username: string }) => u.username), ['bob']);
    assert.equal(now.body.seq, h.store.headSeq());
    const empty = await h.request('GET', '/api/v1/state?at=0', { token: aud });
    assert.deepEqual(empty.body.users, []);
  });

  it('refuses a seq beyond the head or not a number (400)', async (t) => {
    const { h, aud } = await setup(t);
    for (const at of [String(h.store.headSeq() + 1), 'abc', '-1', '1e3']) {
      const res = await h.request('GET', `/api/v1/state?at=${at}`, { token: aud });
      assert.deepEqual([res.status, res.body.error?.code], [400, 'MCM_ERR_VALIDATION'], at);
    }
  });
});

describe('GET /audit-events', () => {
  it('lists who did what, newest first, with result ok, a summary and secrets redacted', async (t) => {
    const { h, op, aud } = await setup(t);
    await h.request('POST', '/api/v1/mqtt-users', { token: op, body: { username: 'alice', password: 'pw' } });
    const res = await h.request('GET', '/api/v1/audit-events?limit=1', { token: aud });
    assert.equal(res.status, 200, res.text);
    const [row] = res.body.items;
    assert.deepEqual(
      [row.seq, row.action, row.resource, row.result, row.summary, row.actor.kind, row.actor.id],
      [h.store.headSeq(), 'MqttUserCreated', 'mqtt-user:alice', 'ok', 'MQTT user "alice" created', 'admin', ROLE_USERS.operator],
    );
    assert.equal(row.data.passwordHash, '[redacted]');
    assert.equal(typeof row.at, 'string');
    assert.ok(res.body.next, 'older rows remain');
    const all = await h.request('GET', '/api/v1/audit-events?limit=1000', { token: aud });
    assert.ok(!all.text.includes('$7$') && !all.text.includes('$2b$'));
  });

  it('filters by actor, by type and by time, and pages in either order', async (t) => {
    const { h, op, aud } = await setup(t);
    const t0 = h.clock.now();
    h.clock.advance(60);
    const t1 = h.clock.now();
    await h.request('POST', '/api/v1/mqtt-users', { token: op, body: { username: 'a' } });
    await h.request('POST', '/api/v1/roles', { token: op, body: { name: 'r' } });
    await h.request('POST', '/api/v1/mqtt-users', { token: op, body: { username: 'b' } });
    const byActor = await h.request('GET', `/api/v1/audit-events?actor=${ROLE_USERS.operator}`, { token: aud });
    assert.deepEqual(byActor.body.items.map((r: { action: string }) => r.action), ['MqttUserCreated', 'RoleDefined', 'MqttUserCreated']);
    const byType = await h.request('GET', '/api/v1/audit-events?type=MqttUserCreated&order=asc', { token: aud });
    assert.deepEqual(byType.body.items.map((r: { resource: string }) => r.resource), ['mqtt-user:a', 'mqtt-user:b']);
    const two = await h.request('GET', '/api/v1/audit-events?type=MqttUserCreated,RoleDefined', { token: aud });
    assert.equal(two.body.items.length, 3);
    const before = await h.request('GET', `/api/v1/audit-events?until=${encodeURIComponent(t0)}`, { token: aud });
    assert.ok(before.body.items.every((r: { action: string }) => r.action === 'AdminUserCreated'), 'only the fixture admins predate t0');
    const since = await h.request('GET', `/api/v1/audit-events?since=${encodeURIComponent(t1)}`, { token: aud });
    assert.equal(since.body.items.length, 3);

    const pages: number[] = [];
    let url = `/api/v1/audit-events?actor=${ROLE_USERS.operator}&limit=2&order=asc`;
    for (;;) {
      const res = await h.request('GET', url, { token: aud });
      pages.push(...res.body.items.map((r: { seq: number }) => r.seq));
      if (!res.body.next) break;
      url = `/api/v1/audit-events?actor=${ROLE_USERS.operator}&limit=2&order=asc&cursor=${res.body.next}`;
    }
    assert.deepEqual(pages, [...pages].sort((a, b) => a - b));
    assert.equal(pages.length, 3);
  });

  it('refuses unparseable times and unknown orders (400)', async (t) => {
    const { h, aud } = await setup(t);
    for (const q of ['since=yesterday', 'until=2025-13-45T00:00:00Z', 'order=sideways']) {
      const res = await h.request('GET', `/api/v1/audit-events?${q}`, { token: aud });
      assert.deepEqual([res.status, res.body.error?.code], [400, 'MCM_ERR_VALIDATION'], q);
    }
  });
});

describe('GET /security/events', () => {
  it('lists security observations newest first, filtered by category and severity', async (t) => {
    const { h, aud } = await setup(t);
    const failed = await h.login(ROLE_USERS.viewer, 'wrong-password-123');
    assert.equal(failed.status, 401);
    const res = await h.request('GET', '/api/v1/security/events?category=auth.login_failed', { token: aud });
    assert.equal(res.status, 200, res.text);
    assert.ok(res.body.items.length >= 1);
    assert.ok(res.body.items.every((e: { category: string }) => e.category === 'auth.login_failed'));
    assert.ok(!res.text.includes('wrong-password-123'), 'the attempted password is never recorded');
    const critical = await h.request('GET', '/api/v1/security/events?severity=critical', { token: aud });
    assert.ok(critical.body.items.every((e: { severity: string }) => e.severity === 'critical'));
    const bad = await h.request('GET', '/api/v1/security/events?severity=meh', { token: aud });
    assert.deepEqual([bad.status, bad.body.error.code], [400, 'MCM_ERR_VALIDATION']);
  });
});
