/**
 * POST /api/v1/import (admin; issue "Adopt an existing Mosquitto"): plan and apply with the files'
 * contents in the body or the configured files read by the server, 400 MCM_ERR_IMPORT_INVALID with
 * every {file, line, message}, 412 on a stale expected_seq, 403 below admin, and the 64 MiB body
 * limit of this route only (read after the admin check).
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createApplyResults, GOOD_FILES_KEY_NAME } from '../../adapters/sqlite/apply-results.ts';
import { sha256Hex } from '../../adapters/import/import-file.ts';
import { HASH_A, HASH_B } from '../helpers/decider-spec.ts';
import { createTestApp } from '../helpers/http.ts';

const PASSWD = `alice:${HASH_A}\nbob:${HASH_B}\n`;
const ACL = 'topic read public/#\n\nuser alice\ntopic readwrite alice/#\n';
const URL_ = '/api/v1/import';
const sha = (text: string): string => sha256Hex(Buffer.from(text, 'utf8'));

describe('POST /api/v1/import', () => {
  it('mode plan answers the plan and changes nothing; mode apply appends one batch with actor import', async (t) => {
    const h = await createTestApp(t);
    const token = await h.tokenFor('admin');
    const before = h.eventCount();
    const plan = await h.request('POST', URL_, { token, body: { mode: 'plan', password_file: PASSWD, acl_file: ACL } });
    assert.equal(plan.status, 200, plan.text);
    assert.equal(plan.body.seq, before);
    assert.equal(plan.headers.get('etag'), `"${before}"`);
    assert.equal(plan.body.changes, true);
    assert.equal(plan.body.summary.users_created, 2);
    assert.equal(plan.body.broker_version, null);
    assert.ok(plan.body.differences.length > 0 && plan.body.differences_total >= plan.body.differences.length);
    assert.deepEqual(plan.body.adopt, [
      { file: 'password_file', sha256: sha(PASSWD), path: null },
      { file: 'acl_file', sha256: sha(ACL), path: null },
    ]);
    assert.deepEqual(plan.body.files.map((f: { owned: boolean }) => f.owned), [false, false]);
    assert.equal(h.eventCount(), before);

    const applied = await h.request('POST', URL_, { token, body: { mode: 'apply', password_file: PASSWD, acl_file: ACL, expected_seq: plan.body.seq, source: 'files:/etc/mosquitto/passwd' } });
    assert.equal(applied.status, 200, applied.text);
    assert.ok(applied.body.events_count > 0);
    assert.equal(applied.body.seq, h.eventCount());
    assert.equal('applied_seq' in applied.body, false, 'no apply loop in this app');
    const events = h.store.read({ after: before });
    assert.equal(events.length, applied.body.events_count);
    for (const e of events) {
      assert.equal(e.actor.kind, 'import');
      assert.equal(e.actor.id, 'files:/etc/mosquitto/passwd by admin:test-admin');
      assert.equal(typeof e.actor.request_id, 'string');
    }
    assert.equal(h.store.state().users['bob']?.passwordHash, HASH_B);
    assert.equal(h.store.state().adoptedFiles?.acl_file?.sha256, sha(ACL));

    const again = await h.request('POST', URL_, { token, body: { mode: 'plan', password_file: PASSWD, acl_file: ACL } });
    assert.equal(again.body.changes, false, again.text);
    assert.deepEqual(again.body.adopt, []);
  });

  it('refuses malformed files with 400 MCM_ERR_IMPORT_INVALID, every problem as {file, line, message}; nothing changes', async (t) => {
    const h = await createTestApp(t);
    const token = await h.tokenFor('admin');
    const before = h.eventCount();
    const res = await h.request('POST', URL_, { token, body: { mode: 'apply', password_file: `alice:${HASH_A}\nbob:secret\n`, acl_file: 'user alice\ntopic\tread x\n' } });
    assert.equal(res.status, 400, res.text);
    assert.equal(res.body.error.code, 'MCM_ERR_IMPORT_INVALID');
    assert.deepEqual(res.body.error.details.map((d: { file: string; line: number }) => [d.file, d.line]), [['password_file', 2], ['acl_file', 2]]);
    for (const d of res.body.error.details) assert.equal(typeof d.message, 'string');
    assert.equal(h.eventCount(), before);

    const surrogate = await h.request('POST', URL_, { token, rawBody: '{"mode":"plan","password_file":"a:b\\n\\ud800"}', headers: { 'content-type': 'application/json' } });
    assert.equal(surrogate.status, 400);
    assert.equal(surrogate.body.error.code, 'MCM_ERR_IMPORT_INVALID');
    assert.deepEqual(surrogate.body.error.details.map((d: { line: number }) => d.line), [2]);

    const shape = await h.request('POST', URL_, { token, body: { mode: 'maybe', colour: 'blue' } });
    assert.equal(shape.status, 400);
    assert.equal(shape.body.error.code, 'MCM_ERR_VALIDATION');
  });

  it('refuses a stale expected_seq (or If-Match) with 412, whatever changed since the plan', async (t) => {
    const h = await createTestApp(t);
    const token = await h.tokenFor('admin');
    const plan = await h.request('POST', URL_, { token, body: { mode: 'plan', password_file: PASSWD } });
    assert.equal(plan.status, 200, plan.text);
    const other = await h.request('POST', '/api/v1/mqtt-users', { token, body: { username: 'carol', password: 'carol-password' } });
    assert.equal(other.status, 201, other.text);
    const before = h.eventCount();
    const stale = await h.request('POST', URL_, { token, body: { mode: 'apply', password_file: PASSWD, expected_seq: plan.body.seq } });
    assert.equal(stale.status, 412, stale.text);
    assert.equal(stale.body.error.code, 'MCM_ERR_STALE_STREAM');
    const header = await h.request('POST', URL_, { token, body: { mode: 'apply', password_file: PASSWD }, headers: { 'if-match': `"${plan.body.seq}"` } });
    assert.equal(header.status, 412, header.text);
    assert.equal(h.eventCount(), before);
  });

  it('is admin only: 403 for an operator, 401 without a token; nothing changes', async (t) => {
    const h = await createTestApp(t);
    const before = h.eventCount();
    for (const role of ['viewer', 'auditor', 'operator'] as const) {
      const res = await h.request('POST', URL_, { token: await h.tokenFor(role), body: { mode: 'apply', password_file: PASSWD } });
      assert.equal(res.status, 403, `${role}: ${res.text}`);
      assert.equal(res.body.error.code, 'MCM_ERR_FORBIDDEN');
    }
    const none = await h.request('POST', URL_, { body: { mode: 'apply', password_file: PASSWD } });
    assert.equal(none.status, 401);
    assert.equal(h.eventCount(), before);
  });

  it('without contents reads the configured files; a posted mosquitto.conf gives allow_anonymous; MCM\'s own files are not adopted', async (t) => {
    const h = await createTestApp(t, {
      config: (c) => {
        c.mosquitto.password_file = join(c.data_dir, 'broker-passwd');
        c.mosquitto.acl_file = join(c.data_dir, 'broker-acl');
      },
    });
    writeFileSync(join(h.dataDir, 'broker-passwd'), PASSWD);
    writeFileSync(join(h.dataDir, 'broker-acl'), ACL);
    // The acl file is the last one MCM wrote and the broker confirmed: MCM's own.
    // Written as the server writes it: with the HMAC of secrets/good-files.key.
    createApplyResults({ db: h.db, key: h.deps.secrets.getOrCreate(GOOD_FILES_KEY_NAME) }).recordGood({ generation: 1, result: 'applied', at: new Date().toISOString() }, [
      { name: 'acl_file', generation: 1, sha256: sha(ACL), content: ACL },
    ]);
    const token = await h.tokenFor('admin');
    const res = await h.request('POST', URL_, { token, body: { mode: 'plan', mosquitto_conf: 'listener 1883\nallow_anonymous true\n' } });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body.files.map((f: { file: string; path: string; owned: boolean }) => [f.file, f.path, f.owned]), [
      ['password_file', join(h.dataDir, 'broker-passwd'), false],
      ['acl_file', join(h.dataDir, 'broker-acl'), true],
    ]);
    assert.deepEqual(res.body.adopt.map((a: { file: string }) => a.file), ['password_file']);
    assert.equal(res.body.summary.allow_anonymous_changed, true);

    const applied = await h.request('POST', URL_, { token, body: { mode: 'apply' } });
    assert.equal(applied.status, 200, applied.text);
    assert.equal(h.store.read().at(-1)?.actor.id, `files:${join(h.dataDir, 'broker-passwd')},${join(h.dataDir, 'broker-acl')} by admin:test-admin`);

    const badConf = await h.request('POST', URL_, { token, body: { mode: 'plan', mosquitto_conf: 'allow_anonymous maybe\n' } });
    assert.equal(badConf.status, 400);
    assert.deepEqual(badConf.body.error.details.map((d: { file: string; line: number }) => [d.file, d.line]), [['mosquitto_conf', 1]]);
  });

  it('accepts a 20 MB body on /import while other routes keep http.body_limit_bytes', async (t) => {
    const h = await createTestApp(t);
    const token = await h.tokenFor('admin');
    // 165,000 users: ~20.5 MB of $7$ lines.
    const lines: string[] = [];
    for (let i = 0; i < 165_000; i++) lines.push(`user${String(i).padStart(6, '0')}:${HASH_A}`);
    const big = `${lines.join('\n')}\n`;
    assert.ok(Buffer.byteLength(big) > 20_000_000, String(Buffer.byteLength(big)));
    const res = await h.request('POST', URL_, { token, body: { mode: 'plan', password_file: big } });
    assert.equal(res.status, 200, res.text.slice(0, 500));
    assert.equal(res.body.summary.users_created, 165_000);
    assert.ok(res.body.differences.length <= 100, 'the plan summarises');

    const other = await h.request('POST', '/api/v1/mqtt-users', { token, body: { username: 'x', description: 'y'.repeat(2_000_000) } });
    assert.equal(other.status, 413);
    assert.equal(other.body.error.code, 'MCM_ERR_BODY_TOO_LARGE');
    const plan = await h.request('POST', '/api/v1/plan', { token, body: { files: { 'users.yaml': 'y'.repeat(2_000_000) } } });
    assert.equal(plan.status, 413);

    const tooBig = await h.request('POST', URL_, { token, rawBody: new Uint8Array(64 * 1024 * 1024 + 1), headers: { 'content-type': 'application/json' } });
    assert.equal(tooBig.status, 413);
  });
});
