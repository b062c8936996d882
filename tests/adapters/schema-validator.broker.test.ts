/**
 * Against a real mosquitto (DESIGN §7, issue 5 "must show"): JSON published by an MQTT client to
 * a topic with an attached schema is observed by a subscriber feeding the validator, the
 * violation is counted and pushed live as `schema_violation`. The subscriber is a bare mqtt.js
 * client standing in for the observer (adapters/mqtt/observer.ts), which calls processors the
 * same way.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { createLiveBus, type LiveOf } from '../../adapters/live/live-bus.ts';
import { createSchemaValidator } from '../../adapters/observer/schema-validator.ts';
import { createSqliteEventStore } from '../../adapters/sqlite/event-store.ts';
import { openDatabase } from '../../adapters/sqlite/open-database.ts';
import { handleCommand } from '../../core/handle-command.ts';
import type { Clock } from '../../core/ports.ts';
import { requireMosquitto, startMosquitto } from '../helpers/mosquitto.ts';

const clock: Clock = { now: () => new Date().toISOString() };

/** Polls `check` until it holds (generous: the machine may be loaded), else fails with `what`. */
const eventually = async (what: string, check: () => boolean, ms = 10_000): Promise<void> => {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('schema validation against a real mosquitto', () => {
  it('counts a violation of a payload published through the broker and pushes it live', async (t) => {
    const bin = requireMosquitto(t);
    if (!bin) return;
    const dir = mkdtempSync(join(tmpdir(), 'mcm-schema-broker-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const broker = await startMosquitto(t, bin, { dir, lines: ['allow_anonymous true'] });

    const db = openDatabase(':memory:');
    t.after(() => db.close());
    const store = createSqliteEventStore({ db });
    const attached = handleCommand({ store, clock }, {
      type: 'AttachSchema',
      data: { name: 'temperature', topicFilter: 'plant/+/temp', schema: { type: 'object', required: ['value'], properties: { value: { type: 'number' } } } },
    }, { actor: { kind: 'system', id: 'test' } }).events[0];
    assert.ok(attached?.type === 'SchemaAttached');
    const id = attached.data.id;

    const bus = createLiveBus();
    const violations: LiveOf<'schema_violation'>[] = [];
    bus.subscribe((m) => { if (m.type === 'schema_violation') violations.push(m); }, ['schema_violation']);
    const validator = createSchemaValidator({ store, bus, clock, logger: pino({ level: 'silent' }) });
    t.after(() => validator.close());

    const sub = mqtt.connect({ host: '127.0.0.1', port: broker.port, reconnectPeriod: 0, clientId: `schema-sub-${process.pid}` });
    t.after(() => { sub.end(true); });
    sub.on('message', (topic, payload, packet) => {
      validator.process({ topic, payload, qos: packet.qos, retain: packet.retain, receivedAt: Date.now() });
    });
    await new Promise<void>((resolve, reject) => { sub.once('connect', () => resolve()); sub.once('error', reject); });
    await sub.subscribeAsync('#', { qos: 1 });

    const pub = mqtt.connect({ host: '127.0.0.1', port: broker.port, reconnectPeriod: 0, clientId: `schema-pub-${process.pid}` });
    t.after(() => { pub.end(true); });
    await new Promise<void>((resolve, reject) => { pub.once('connect', () => resolve()); pub.once('error', reject); });
    await pub.publishAsync('plant/line1/temp', '{"value": 21.5}', { qos: 1 });
    await pub.publishAsync('plant/line1/temp', '{"value": "warm"}', { qos: 1 });
    await pub.publishAsync('plant/line1/humidity', '{"value": "no schema here"}', { qos: 1 });

    await eventually('one valid and one invalid payload', () => {
      const s = validator.stats(id);
      return s !== null && s.valid_count === 1 && s.invalid_count === 1;
    });
    const last = validator.stats(id)?.last_violation;
    assert.equal(last?.topic, 'plant/line1/temp');
    assert.deepEqual(last?.errors, [{ path: '/value', message: 'must be number' }]);
    assert.equal(last?.payload_preview, '{"value": "warm"}');
    assert.equal(violations.length, 1);
    assert.equal(violations[0]?.schema_id, id);
    assert.equal(violations[0]?.schema_name, 'temperature');
    assert.equal(violations[0]?.topic, 'plant/line1/temp');
  });
});
