/**
 * ui/data/access-apply.ts: where a write stands ("pending → applied", failed with the reason,
 * nothing to apply), checked on the status shapes the server really builds (buildApplyStatus,
 * GET /apply-status of the real HTTP app) and the ETags its writes really return.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildApplyStatus } from '../../adapters/apply/apply-status.ts';
import type { ApplyResultRow } from '../../adapters/sqlite/apply-results.ts';
import { createApiClient } from '../../ui/data/api-client.ts';
import { adoptionRequired, applyProgress, applySettled, parseApplyStatus, seqFromEtag, type ApplyStatus } from '../../ui/data/access-apply.ts';
import { createTestApp } from '../helpers/http.ts';

const row = (generation: number, result: ApplyResultRow['result'], reason: string | null = null): ApplyResultRow => ({
  id: generation, generation, result, reason, latency_ms: 42, at: '2026-01-01T00:00:00.000Z', password_sha256: null, acl_sha256: null,
});

const status = (desired: number, lastSuccess: number | null, last: ApplyResultRow | null, up = true, reload = 'supervised'): ApplyStatus => {
  const st = parseApplyStatus(buildApplyStatus({ desired, lastSuccess: lastSuccess === null ? null : row(lastSuccess, 'applied'), last, mode: 'supervised', up, reload }));
  assert.ok(st);
  return st;
};

describe('ui/data access-apply', () => {
  it('reads the seq from an ETag', () => {
    assert.equal(seqFromEtag('"42"'), 42);
    assert.equal(seqFromEtag('W/"7"'), 7);
    assert.equal(seqFromEtag(null), null);
    assert.equal(seqFromEtag('"abc"'), null);
    assert.equal(seqFromEtag('42'), null);
  });

  it('parses the server status and refuses malformed ones', () => {
    const st = status(5, 5, row(5, 'applied'));
    assert.equal(st.state, 'applied');
    assert.equal(st.last?.latency_ms, 42);
    assert.equal(st.broker.up, true);
    assert.equal(parseApplyStatus(null), null);
    assert.equal(parseApplyStatus({ desired_seq: 1, applied_seq: 1, state: 'weird' }), null);
    assert.equal(parseApplyStatus({ desired_seq: '1', applied_seq: 1, state: 'applied' }), null);
  });

  it('pending while the broker runs an older generation, then applied once it reaches the write', () => {
    const pending = applyProgress(10, status(10, 8, row(8, 'applied')));
    assert.equal(pending.phase, 'pending');
    assert.match(pending.text, /generation 8/);
    assert.equal(applySettled(pending), false);
    const applied = applyProgress(10, status(10, 10, row(10, 'applied')));
    assert.equal(applied.phase, 'applied');
    assert.match(applied.text, /in 42 ms/);
    assert.equal(applySettled(applied), true);
    // A later change applied covers this one too.
    assert.equal(applyProgress(10, status(12, 12, row(12, 'applied'))).phase, 'applied');
  });

  it('a down broker is named while pending; no status yet is pending', () => {
    assert.match(applyProgress(10, status(10, 8, row(8, 'applied'), false)).text, /broker is down/);
    assert.equal(applyProgress(10, null).phase, 'pending');
  });

  it('failed with the reason when the attempt that covered the write failed; pending when only an older one did', () => {
    const failed = applyProgress(10, status(10, 8, row(10, 'failed', 'probe not received within 5000 ms')));
    assert.equal(failed.phase, 'failed');
    assert.match(failed.text, /probe not received/);
    assert.match(failed.text, /generation 8/);
    assert.equal(applyProgress(10, status(10, 8, row(9, 'failed', 'old'))).phase, 'pending');
  });

  it('a write that moved no generation has nothing to apply; reload "none" is "written"', () => {
    assert.equal(applyProgress(11, status(10, 10, row(10, 'applied'))).phase, 'unchanged');
    const written = applyProgress(10, status(10, 10, row(10, 'written'), true, 'none'));
    assert.equal(written.phase, 'written');
    assert.match(written.text, /"none"/);
  });

  it('adoption_required (issue 11): the foreign files and the broker version are read; a new write waits for the import', () => {
    const raw = buildApplyStatus({
      desired: 4, lastSuccess: null, last: null, mode: 'external', up: true, reload: 'signal', version: '2.0.11',
      adoption: [{ file: 'password_file', path: '/etc/mosquitto/passwd', sha256: 'ab'.repeat(32) }],
    });
    const st = parseApplyStatus(raw);
    assert.ok(st);
    assert.equal(st.state, 'adoption_required');
    assert.equal(st.broker.version, '2.0.11');
    assert.deepEqual(adoptionRequired(st), [{ file: 'password_file', path: '/etc/mosquitto/passwd', sha256: 'ab'.repeat(32) }]);
    const p = applyProgress(4, st);
    assert.equal(p.phase, 'blocked');
    assert.match(p.text, /mcm import/);
    assert.equal(applySettled(p), true, 'nothing happens without an admin');
    assert.equal(adoptionRequired(status(5, 5, row(5, 'applied'))), null);
    assert.equal(status(5, 5, row(5, 'applied')).broker.version, null);
  });

  it('on the real HTTP app: a user write moves the generation (pending), a schema does not (unchanged)', async (t) => {
    const h = await createTestApp(t);
    const token = await h.tokenFor('operator');
    const api = createApiClient({ fetch, origin: h.baseUrl, token: () => token });
    const created = await api.request('POST', '/mqtt-users', { body: { username: 'press-1' } });
    const seq = seqFromEtag(created.etag);
    assert.ok(seq !== null && seq > 0);
    // Without an apply loop nothing is ever applied: the status says pending.
    const st = parseApplyStatus(await api.get('/apply-status'));
    assert.ok(st);
    assert.equal(applyProgress(seq, st).phase, 'pending');
    // Schemas are checked by the observer, not rendered for the broker (DESIGN §6).
    const schema = await api.request('POST', '/json-schemas', { body: { name: 'speed', topic_filter: 'plant/#', schema: { type: 'object' } } });
    const schemaSeq = seqFromEtag(schema.etag);
    assert.ok(schemaSeq !== null && schemaSeq > seq);
    assert.equal(applyProgress(schemaSeq, parseApplyStatus(await api.get('/apply-status'))).phase, 'unchanged');
  });
});
