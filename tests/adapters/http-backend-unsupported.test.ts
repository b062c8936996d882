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
