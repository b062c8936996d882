/**
 * Issue 15: with `mosquitto.backend: dynsec`, a rule the plugin cannot express is refused at the
 * API with 422 MCM_ERR_BACKEND_UNSUPPORTED and nothing is appended; with files it is accepted.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createTestApp } from '../helpers/http.ts';
import { renderGitopsFiles } from '../../adapters/gitops/yaml-files.ts';
import { exportBundle } from '../../projections/gitops-export.ts';

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

test('GitOps and import paths refuse a pattern rule with the dynsec backend too, changing nothing', async (t) => {
  // A bundle exported from an installation that has a pattern rule (files backend)…
  const source = await createTestApp(t, { deps: { backend: 'files' } });
  assert.equal((await source.request('POST', '/api/v1/acls', { token: await source.tokenFor('operator'), body: { principal: 'pattern', topic: 'dev/%c/#', access: 'write' } })).status, 201);
  const files = renderGitopsFiles(exportBundle(source.store.state()));
  // …applied to one on the dynsec backend.
  const h = await createTestApp(t, { deps: { backend: 'dynsec' } });
  const before = h.eventCount();
  const res = await h.request('POST', '/api/v1/apply', { token: await h.tokenFor('admin'), body: { files } });
  assert.equal(res.status, 422, res.text);
  assert.equal(res.body.error.code, 'MCM_ERR_BACKEND_UNSUPPORTED');
  assert.equal(h.eventCount(), before);
  const imported = await h.request('POST', '/api/v1/import', { token: await h.tokenFor('admin'), body: { mode: 'apply', acl_file: 'pattern write dev/%c/#\n', password_file: '' } });
  assert.equal(imported.status, 422, imported.text);
  assert.equal(imported.body.error.code, 'MCM_ERR_BACKEND_UNSUPPORTED');
  assert.equal(h.eventCount(), before);
});
