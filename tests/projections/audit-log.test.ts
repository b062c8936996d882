import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DomainEvent, EventEnvelope } from '../../core/events.ts';
import { auditMatches, auditRow, redactSecrets, REDACTED, summarize } from '../../projections/audit-log.ts';
import { BCRYPT_A, HASH_A, ev } from '../helpers/decider-spec.ts';

const envelope = (e: DomainEvent, seq = 1, o: { at?: string; actor?: string } = {}): EventEnvelope => ({
  ...e,
  seq,
  stream: 'test',
  version: 1,
  actor: { kind: 'admin', id: o.actor ?? 'root' },
  at: o.at ?? '2026-01-02T03:04:05.000Z',
  prev_hash: '0'.repeat(64),
  hash: 'f'.repeat(64),
}) as EventEnvelope;

describe('projections/audit-log: rows with secrets redacted (DESIGN §4)', () => {
  it('redacts every data key naming a hash, secret or ciphertext, at any depth, and keeps the rest', () => {
    const out = redactSecrets({
      username: 'alice', passwordHash: HASH_A, nested: [{ secretCiphertext: 'abc', recoveryCodeHashes: ['x', 'y'], ok: 1 }],
    });
    assert.deepEqual(out, {
      username: 'alice', passwordHash: REDACTED, nested: [{ secretCiphertext: REDACTED, recoveryCodeHashes: REDACTED, ok: 1 }],
    });
  });

  it('keeps a "__proto__" key as data rather than setting the prototype', () => {
    const input = JSON.parse('{"__proto__": {"hash": "h"}, "a": 1}') as unknown;
    const out = redactSecrets(input) as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(out), Object.prototype);
    assert.deepEqual(Object.getOwnPropertyDescriptor(out, '__proto__')?.value, { hash: REDACTED });
  });

  it('turns an envelope into {seq, at, actor, action, resource, result, summary} with no hash in it', () => {
    const e = envelope(ev.userCreated('alice'), 7);
    const row = auditRow({ ...e, stream: 'mqtt-user:alice' });
    assert.equal(row.seq, 7);
    assert.equal(row.action, 'MqttUserCreated');
    assert.equal(row.resource, 'mqtt-user:alice');
    assert.equal(row.result, 'ok');
    assert.deepEqual(row.actor, { kind: 'admin', id: 'root' });
    assert.equal(row.summary, 'MQTT user "alice" created');
    assert.ok(!JSON.stringify(row).includes(HASH_A));
    const admin = auditRow(envelope(ev.adminCreated('root', 'admin', BCRYPT_A)));
    assert.ok(!JSON.stringify(admin).includes(BCRYPT_A));
  });

  it('summarises grants, rules and settings in plain words', () => {
    assert.equal(summarize(envelope(ev.granted('alice', 'ops'))), 'role "ops" granted to "alice"');
    assert.equal(summarize(envelope(ev.ruleAdded(4, 'user:alice', 'a/#', 'read'))), 'ACL rule 4 added: user:alice read "a/#"');
    assert.equal(summarize(envelope({ type: 'AnonymousAccessChanged', data: { allowed: false } })), 'anonymous access refused');
  });

  it('filters by actor id, event types and an inclusive time range', () => {
    const e = envelope(ev.userCreated('a'), 1, { actor: 'ann', at: '2026-01-02T10:00:00.000Z' });
    assert.equal(auditMatches(e, {}), true);
    assert.equal(auditMatches(e, { actor: 'ann' }), true);
    assert.equal(auditMatches(e, { actor: 'bob' }), false);
    assert.equal(auditMatches(e, { types: ['MqttUserCreated', 'RoleDefined'] }), true);
    assert.equal(auditMatches(e, { types: ['RoleDefined'] }), false);
    assert.equal(auditMatches(e, { since: '2026-01-02T10:00:00.000Z', until: '2026-01-02T10:00:00.000Z' }), true);
    assert.equal(auditMatches(e, { since: '2026-01-02T10:00:00.001Z' }), false);
    assert.equal(auditMatches(e, { until: '2026-01-02T09:59:59.999Z' }), false);
  });
});
