/**
 * Which live messages become webhook events (core/webhook-events.ts): changes only for states the
 * bus repeats (apply status, broker status), and admin changes without their data.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createTriggerMapper, eventAppendedOf } from '../../adapters/webhooks/webhook-triggers.ts';
import type { LiveMessage } from '../../adapters/live/live-bus.ts';
import type { EventEnvelope } from '../../core/events.ts';
import { HASH_A } from '../helpers/decider-spec.ts';

const AT = '2026-01-01T00:00:00.000Z';
const applyStatus = (result: string, seq: number, at = AT): LiveMessage => ({
  type: 'apply_status',
  status: { desired_seq: seq, applied_seq: seq, state: 'applied', last: { seq, result, latency_ms: 5, at }, broker: { mode: 'external', up: true } },
  at,
});

describe('createTriggerMapper', () => {
  it('maps an apply result to apply_applied / apply_failed once per recorded result, never for written', () => {
    const map = createTriggerMapper();
    assert.equal(map(applyStatus('applied', 3))?.type, 'apply_applied');
    assert.equal(map(applyStatus('applied', 3)), null, 'the same result pushed again (e.g. after an enforcement check)');
    assert.equal(map(applyStatus('failed', 4, '2026-01-01T00:00:01.000Z'))?.type, 'apply_failed');
    assert.equal(map(applyStatus('written', 5, '2026-01-01T00:00:02.000Z')), null);
    assert.equal(map({ type: 'apply_status', status: { desired_seq: 0, applied_seq: 0, state: 'applied', last: null }, at: AT }), null);
    assert.equal(map({ type: 'apply_status', status: { result: 'failed', generation: 9, at: AT }, at: AT })?.type, 'apply_failed', 'a bare {result} status');
  });

  it('maps broker status transitions only: broker_down, then broker_up; the first "up" after start is not news', () => {
    const map = createTriggerMapper();
    const s = (up: boolean): LiveMessage => ({ type: 'broker_status', up, at: AT });
    assert.deepEqual([s(true), s(false), s(false), s(true), s(true), s(false)].map((m) => map(m)?.type ?? null),
      [null, 'broker_down', null, 'broker_up', null, 'broker_down']);
    assert.equal(createTriggerMapper()(s(false))?.type, 'broker_down', 'down at start is news');
  });

  it('passes security events, schema violations and client connects/disconnects through with the message as data', () => {
    const map = createTriggerMapper();
    const msgs: LiveMessage[] = [
      { type: 'security_event', category: 'auth.login_failed', severity: 'warning', message: 'x', at: AT },
      { type: 'schema_violation', schema_id: 1, schema_name: 's', topic: 'a/b', errors: [], at: AT },
      { type: 'client_connected', client: { client_id: 'c', username: null, address: '::1', port: 1, protocol: 'mqtt', keepalive: 60, clean: true, connected_at: AT }, at: AT },
      { type: 'client_disconnected', client_id: 'c', username: null, reason: 'closed', at: AT },
    ];
    for (const m of msgs) assert.deepEqual(map(m), { type: m.type, data: m });
    assert.equal(map({ type: 'topic_message', topic: 'a', qos: 0, retain: false, bytes: 1, preview: 'x', preview_kind: 'text', at: AT }), null);
  });
});

describe('eventAppendedOf', () => {
  it('names the event, stream, actor and time, never the event data (hashes, sealed secrets)', () => {
    const e = {
      type: 'MqttUserCreated', data: { username: 'alice', passwordHash: HASH_A, roles: [] }, seq: 12, stream: 'mqtt-user:alice',
      version: 1, actor: { kind: 'admin', id: 'root', ip: '10.0.0.1' }, at: AT, prev_hash: 'a'.repeat(64), hash: 'b'.repeat(64),
    } as unknown as EventEnvelope;
    const m = eventAppendedOf(e);
    assert.deepEqual(m, { type: 'event_appended', seq: 12, stream: 'mqtt-user:alice', event_type: 'MqttUserCreated', actor: { kind: 'admin', id: 'root' }, at: AT });
    assert.ok(!JSON.stringify(m).includes(HASH_A));
  });
});
