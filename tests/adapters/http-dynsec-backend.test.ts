/**
 * Issue 15: with `mosquitto.backend: dynsec`, a rule the plugin cannot express is refused at the
 * API with 422 MCM_ERR_BACKEND_UNSUPPORTED and nothing is appended; with files it is accepted.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createTestApp } from '../helpers/http.ts';

test('POST /acls: a pattern rule is refused with the dynsec backend, and nothing changes', async (t) => {
  const h = await createTestApp(t, { deps: { backend: 'dynsec' } });
  const op = await h.tokenFor('operator');
  const before = h.eventCount();
  const res = await h.request('POST', '/api/v1/acls', { token: op, body: { principal: 'pattern', topic: 'dev/%c/#', access: 'write' } });
  assert.equal(res.status, 422, res.text);
  assert.equal(res.body.error.code, 'MCM_ERR_BACKEND_UNSUPPORTED');
  assert.match(res.body.error.message, /dynamic-security plugin/);
  assert.equal(h.eventCount(), before);
  const ok = await h.request('POST', '/api/v1/acls', { token: op, body: { principal: 'anonymous', topic: 'public/#', access: 'read' } });
  assert.equal(ok.status, 201, ok.text);
});

test('POST /acls: the same pattern rule is accepted with the files backend', async (t) => {
  const h = await createTestApp(t, { deps: { backend: 'files' } });
  const res = await h.request('POST', '/api/v1/acls', { token: await h.tokenFor('operator'), body: { principal: 'pattern', topic: 'dev/%c/#', access: 'write' } });
  assert.equal(res.status, 201, res.text);
});

test('POST /acls/explain and GET /acls/who answer in the plugin\'s order with the dynsec backend', async (t) => {
  const h = await createTestApp(t, { deps: { backend: 'dynsec' } });
  const op = await h.tokenFor('operator');
  const viewer = await h.tokenFor('viewer');
  assert.equal((await h.request('POST', '/api/v1/roles', { token: op, body: { name: 'sensors', rules: [{ topic: 's/#', access: 'readwrite' }] } })).status, 201);
  const created = await h.request('POST', '/api/v1/mqtt-users', { token: op, body: { username: 'alice', password: 'alice-password-1', roles: ['sensors'] } });
  assert.equal(created.status, 201, created.text);
  // In the plugin the user's own rules (its own role, priority 1) come first: its allow beats the role's deny.
  assert.equal((await h.request('POST', '/api/v1/acls', { token: op, body: { principal: 'role:sensors', topic: 's/secret', access: 'deny' } })).status, 201);
  assert.equal((await h.request('POST', '/api/v1/acls', { token: op, body: { principal: 'user:alice', topic: 's/secret', access: 'write' } })).status, 201);
  const res = await h.request('POST', '/api/v1/acls/explain', { token: viewer, body: { username: 'alice', topic: 's/secret', action: 'write' } });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.body.allowed, true);
  assert.equal(res.body.reason, 'allowed by role "user:alice" (publishClientSend "s/secret", priority 0)');
  assert.deepEqual(res.body.matched.map((m: { principal: string; access: string }) => [m.principal, m.access]), [['user:alice', 'write']]);
  const read = await h.request('POST', '/api/v1/acls/explain', { token: viewer, body: { username: 'alice', topic: 's/secret', action: 'read' } });
  assert.equal(read.body.allowed, false, 'the role denies reading it');
  assert.ok(read.body.notes.some((n: string) => n.startsWith('subscribing to "s/secret" itself: denied')));
  const who = await h.request('GET', '/api/v1/acls/who?topic=s%2Fsecret&action=write', { token: viewer });
  assert.equal(who.status, 200, who.text);
  assert.deepEqual(who.body.users.filter((u: { mcm_service_account?: boolean }) => !u.mcm_service_account).map((u: { username: string }) => u.username), ['alice']);
});
