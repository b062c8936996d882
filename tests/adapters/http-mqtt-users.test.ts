/**
 * /api/v1/mqtt-users (DESIGN §5, §8): Mosquitto password-file entries over HTTP. Passwords are
 * `$7$`-hashed before the command (never stored or shown in plaintext after creation); a generated
 * password is 24 URL-safe characters, shown once. Writes carry the new seq as ETag and honour If-Match.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createTestApp, type TestApp } from '../helpers/http.ts';

const USERS = '/api/v1/mqtt-users';

const setup = async (t: Parameters<typeof createTestApp>[0]): Promise<{ h: TestApp; op: string; aud: string }> => {
  const h = await createTestApp(t);
  return { h, op: await h.tokenFor('operator'), aud: await h.tokenFor('auditor') };
};

const hashOf = (h: TestApp, username: string): string => {
  const user = h.store.state().users[username];
  assert.ok(user, `${username} exists`);
  return user.passwordHash;
};

describe('POST /mqtt-users', () => {
  it('generates a 24-character URL-safe password when none is given, returns it once, and stores only its $7$ hash', async (t) => {
    const { h, op, aud } = await setup(t);
    const res = await h.request('POST', USERS, { token: op, body: { username: 'alice', description: 'sensor 1' } });
    assert.equal(res.status, 201, res.text);
    assert.match(res.body.password, /^[A-Za-z0-9_-]{24}$/);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.equal(res.headers.get('etag'), `"${h.store.headSeq()}"`);
    assert.equal(res.headers.get('location'), '/api/v1/mqtt-users/alice');
    assert.deepEqual({ ...res.body, password: undefined, created_at: undefined, updated_at: undefined }, {
      username: 'alice', description: 'sensor 1', roles: [], disabled: false, password: undefined, created_at: undefined, updated_at: undefined,
    });
    const hash = hashOf(h, 'alice');
    assert.match(hash, /^\$7\$101\$/);
    assert.equal(await h.deps.mqttHasher.verify(res.body.password, hash), true, 'the stored hash is of the returned password');

    const log = JSON.stringify(h.store.read());
    assert.ok(!log.includes(res.body.password), 'the plaintext never enters the event log');
    const again = await h.request('GET', `${USERS}/alice`, { token: aud });
    assert.equal(again.body.password, undefined, 'never shown again');
  });

  it('hashes a given password with the current hash_iterations and does not echo it', async (t) => {
    const { h, op } = await setup(t);
    const set = await h.request('PUT', '/api/v1/settings', { token: await h.tokenFor('admin'), body: { hash_iterations: 1000 } });
    assert.equal(set.status, 200, set.text);
    const res = await h.request('POST', USERS, { token: op, body: { username: 'bob', password: 's3cret-device-pw' } });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body.password, undefined);
    assert.ok(!res.text.includes('s3cret-device-pw'));
    const hash = hashOf(h, 'bob');
    assert.match(hash, /^\$7\$1000\$/);
    assert.equal(await h.deps.mqttHasher.verify('s3cret-device-pw', hash), true);
  });

  it('grants the given roles and can create the user disabled', async (t) => {
    const { h, op } = await setup(t);
    await h.request('POST', '/api/v1/roles', { token: op, body: { name: 'sensors', rules: [{ topic: 'plant/#', access: 'write' }] } });
    const res = await h.request('POST', USERS, { token: op, body: { username: 'dev1', roles: ['sensors'], disabled: true } });
    assert.equal(res.status, 201, res.text);
    assert.deepEqual(res.body.roles, ['sensors']);
    assert.equal(res.body.disabled, true);
  });

  it("refuses MCM's service account name with 409 MCM_ERR_USERNAME_RESERVED and records nothing", async (t) => {
    const { h, op } = await setup(t);
    const before = h.eventCount();
    const res = await h.request('POST', USERS, { token: op, body: { username: h.deps.serviceAccount } });
    assert.equal(res.status, 409);
    assert.equal(res.body.error.code, 'MCM_ERR_USERNAME_RESERVED');
    assert.equal(h.eventCount(), before);
  });

  it('refuses a duplicate (409), an unknown role (404) and invalid usernames (400) without recording anything [ref §1.3]', async (t) => {
    const { h, op } = await setup(t);
    await h.request('POST', USERS, { token: op, body: { username: 'alice' } });
    const before = h.eventCount();
    const dup = await h.request('POST', USERS, { token: op, body: { username: 'alice' } });
    assert.deepEqual([dup.status, dup.body.error.code], [409, 'MCM_ERR_MQTT_USER_EXISTS']);
    const role = await h.request('POST', USERS, { token: op, body: { username: 'x', roles: ['nope'] } });
    assert.deepEqual([role.status, role.body.error.code], [404, 'MCM_ERR_ROLE_NOT_FOUND']);
    for (const username of ['a:b', 'a/b', 'a+b', '#x', ' lead', 'trail ', 'nul\u0000', 'é'.repeat(129)]) {
      const res = await h.request('POST', USERS, { token: op, body: { username } });
      assert.equal(res.status, 400, `${JSON.stringify(username)}: ${res.text}`);
      assert.match(res.body.error.code, /^MCM_ERR_(USERNAME_INVALID|VALIDATION)$/, JSON.stringify(username));
    }
    assert.equal(h.eventCount(), before);
  });
});

describe('GET /mqtt-users', () => {
  it('pages users sorted by name with an opaque cursor, a total, and the state seq as ETag', async (t) => {
    const { h, op, aud } = await setup(t);
    for (const u of ['e', 'c', 'a', 'd', 'b']) await h.request('POST', USERS, { token: op, body: { username: u, password: 'pw' } });
    const seen: string[] = [];
    let url = `${USERS}?limit=2`;
    for (let i = 0; i < 5; i++) {
      const res = await h.request('GET', url, { token: aud });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.total, 5);
      assert.equal(res.headers.get('etag'), `"${h.store.headSeq()}"`);
      seen.push(...res.body.items.map((u: { username: string }) => u.username));
      if (res.body.next === null) break;
      url = `${USERS}?limit=2&cursor=${encodeURIComponent(res.body.next)}`;
    }
    assert.deepEqual(seen, ['a', 'b', 'c', 'd', 'e']);
  });

  it('shows a change in the next list (the cached page is per state seq)', async (t) => {
    const { h, op, aud } = await setup(t);
    await h.request('POST', USERS, { token: op, body: { username: 'b', password: 'pw' } });
    const first = await h.request('GET', USERS, { token: aud });
    assert.deepEqual(first.body.items.map((u: { username: string }) => u.username), ['b']);
    await h.request('POST', USERS, { token: op, body: { username: 'a', password: 'pw' } });
    await h.request('PUT', `${USERS}/b`, { token: op, body: { description: 'changed' } });
    const second = await h.request('GET', USERS, { token: aud });
    assert.deepEqual(second.body.items.map((u: { username: string; description: string }) => [u.username, u.description]), [['a', ''], ['b', 'changed']]);
    assert.match(second.headers.get('content-type') ?? '', /^application\/json/);
    assert.notEqual(second.headers.get('etag'), first.headers.get('etag'));
  });

  it('shows no hash anywhere in the list', async (t) => {
    const { h, op, aud } = await setup(t);
    await h.request('POST', USERS, { token: op, body: { username: 'a', password: 'pw' } });
    const res = await h.request('GET', USERS, { token: aud });
    assert.ok(!res.text.includes('$7$'));
  });

  it('refuses a limit outside 1..1000 and a cursor it did not make (400 MCM_ERR_VALIDATION)', async (t) => {
    const { h, aud } = await setup(t);
    for (const q of ['limit=0', 'limit=1001', 'limit=abc', 'limit=1&limit=2', 'cursor=%%%', 'cursor=bm90LWpzb24']) {
      const res = await h.request('GET', `${USERS}?${q}`, { token: aud });
      assert.deepEqual([res.status, res.body.error?.code], [400, 'MCM_ERR_VALIDATION'], q);
    }
  });

  it('answers 404 MCM_ERR_MQTT_USER_NOT_FOUND for an unknown user, and finds names that need URL encoding', async (t) => {
    const { h, op, aud } = await setup(t);
    const missing = await h.request('GET', `${USERS}/nobody`, { token: aud });
    assert.deepEqual([missing.status, missing.body.error.code], [404, 'MCM_ERR_MQTT_USER_NOT_FOUND']);
    await h.request('POST', USERS, { token: op, body: { username: 'ünï code%20x', password: 'pw' } });
    const found = await h.request('GET', `${USERS}/${encodeURIComponent('ünï code%20x')}`, { token: aud });
    assert.equal(found.status, 200, found.text);
    assert.equal(found.body.username, 'ünï code%20x');
  });
});

describe('PUT, DELETE and password of /mqtt-users/{username}', () => {
  it('updates description, roles (replacing the set) and disabled', async (t) => {
    const { h, op } = await setup(t);
    for (const name of ['r1', 'r2']) await h.request('POST', '/api/v1/roles', { token: op, body: { name } });
    await h.request('POST', USERS, { token: op, body: { username: 'alice', roles: ['r1'] } });
    const res = await h.request('PUT', `${USERS}/alice`, { token: op, body: { description: 'new', roles: ['r2'], disabled: true } });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual([res.body.description, res.body.roles, res.body.disabled], ['new', ['r2'], true]);
    assert.equal(res.headers.get('etag'), `"${h.store.headSeq()}"`);
    const missing = await h.request('PUT', `${USERS}/nobody`, { token: op, body: { description: 'x' } });
    assert.equal(missing.status, 404);
  });

  it('deletes the user and its direct ACL rules (204)', async (t) => {
    const { h, op, aud } = await setup(t);
    await h.request('POST', USERS, { token: op, body: { username: 'alice' } });
    await h.request('POST', '/api/v1/acls', { token: op, body: { principal: 'user:alice', topic: 'a/#', access: 'read' } });
    const res = await h.request('DELETE', `${USERS}/alice`, { token: op });
    assert.equal(res.status, 204);
    assert.equal(res.text, '');
    assert.equal(res.headers.get('etag'), `"${h.store.headSeq()}"`);
    assert.equal((await h.request('GET', `${USERS}/alice`, { token: aud })).status, 404);
    const rules = await h.request('GET', '/api/v1/acls?principal=user%3Aalice', { token: aud });
    assert.deepEqual(rules.body.items, []);
    assert.equal((await h.request('DELETE', `${USERS}/alice`, { token: op })).status, 404);
  });

  it('sets a new password: generated and shown once when absent, hashed and not echoed when given', async (t) => {
    const { h, op } = await setup(t);
    await h.request('POST', USERS, { token: op, body: { username: 'alice', password: 'old' } });
    const gen = await h.request('POST', `${USERS}/alice/password`, { token: op });
    assert.equal(gen.status, 200, gen.text);
    assert.match(gen.body.password, /^[A-Za-z0-9_-]{24}$/);
    assert.equal(gen.headers.get('cache-control'), 'no-store');
    assert.equal(await h.deps.mqttHasher.verify(gen.body.password, hashOf(h, 'alice')), true);
    assert.equal(await h.deps.mqttHasher.verify('old', hashOf(h, 'alice')), false);

    const given = await h.request('POST', `${USERS}/alice/password`, { token: op, body: { password: 'chosen' } });
    assert.equal(given.status, 200, given.text);
    assert.deepEqual(given.body, {});
    assert.equal(await h.deps.mqttHasher.verify('chosen', hashOf(h, 'alice')), true);

    const missing = await h.request('POST', `${USERS}/nobody/password`, { token: op, body: {} });
    assert.deepEqual([missing.status, missing.body.error.code], [404, 'MCM_ERR_MQTT_USER_NOT_FOUND']);
  });
});

describe('optimistic concurrency on /mqtt-users (DESIGN §4)', () => {
  it('answers 412 MCM_ERR_STALE_STREAM when the user changed after the If-Match seq, and records nothing', async (t) => {
    const { h, op, aud } = await setup(t);
    await h.request('POST', USERS, { token: op, body: { username: 'alice' } });
    const read = await h.request('GET', `${USERS}/alice`, { token: aud });
    const etag = read.headers.get('etag') ?? '';
    assert.match(etag, /^"\d+"$/);
    await h.request('PUT', `${USERS}/alice`, { token: op, body: { description: 'someone else' } });
    const before = h.eventCount();
    const stale = await h.request('PUT', `${USERS}/alice`, { token: op, body: { description: 'mine' }, headers: { 'if-match': etag } });
    assert.deepEqual([stale.status, stale.body.error.code], [412, 'MCM_ERR_STALE_STREAM']);
    assert.equal(h.eventCount(), before);
  });

  it('accepts an If-Match that is current for the target, even when other entities changed since', async (t) => {
    const { h, op, aud } = await setup(t);
    await h.request('POST', USERS, { token: op, body: { username: 'alice' } });
    const etag = (await h.request('GET', `${USERS}/alice`, { token: aud })).headers.get('etag') ?? '';
    await h.request('POST', USERS, { token: op, body: { username: 'bob' } });
    const ok = await h.request('PUT', `${USERS}/alice`, { token: op, body: { description: 'mine' }, headers: { 'if-match': etag } });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.body.description, 'mine');
  });

  it('refuses a malformed If-Match with 400 rather than guessing', async (t) => {
    const { h, op } = await setup(t);
    await h.request('POST', USERS, { token: op, body: { username: 'alice' } });
    for (const v of ['"abc"', '"1", "2"', '"1', 'W/1"']) {
      const res = await h.request('PUT', `${USERS}/alice`, { token: op, body: { description: 'x' }, headers: { 'if-match': v } });
      assert.deepEqual([res.status, res.body.error?.code], [400, 'MCM_ERR_VALIDATION'], v);
    }
  });
});
