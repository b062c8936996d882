/**
 * Sparkplug B through a real mosquitto (issue 5 "must show"): an edge node publishes NBIRTH and
 * NDATA and registers its NDEATH as the MQTT Will; a subscriber (a bare mqtt.js client standing in
 * for the observer) feeds the tracker. The node goes online with its bdSeq and metrics named
 * through the birth's aliases, a device is born, updated and dies, a seq gap and garbage are
 * counted, and when the edge node's connection drops the broker's Will takes it offline.
 *
 * Fixtures (fixtures/mqtt/*.b64, encoded with sparkplug-payload's encodePayload):
 *   sparkplug-nbirth.b64  seq 0; bdSeq (UInt64) 7, "Node Control/Rebirth" alias 1 = false,
 *                         Temperature alias 2 Double 21.5, Pressure alias 3 Int64 -12, Status alias 4 "RUNNING"
 *   sparkplug-ndata.b64   seq 1; alias 2 = 22.25, alias 3 = -15 (aliases only, no names)
 *   sparkplug-ndeath.b64  no seq; bdSeq (UInt64) 7
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { pino } from 'pino';
import sparkplug from 'sparkplug-payload';
import { createLiveBus, type LiveOf } from '../../adapters/live/live-bus.ts';
import { createSparkplugTracker } from '../../adapters/observer/sparkplug-tracker.ts';
import type { SparkplugNodeView } from '../../adapters/observer/sparkplug-view.ts';
import { requireMosquitto, startMosquitto } from '../helpers/mosquitto.ts';

const fixture = (name: string): Buffer => Buffer.from(readFileSync(new URL(`../../fixtures/mqtt/${name}`, import.meta.url), 'utf8').trim(), 'base64');

const sp = sparkplug.get('spBv1.0');
if (!sp) throw new Error('no spBv1.0 codec');
type Payload = Parameters<typeof sp.encodePayload>[0];
const encode = (p: Payload): Buffer => Buffer.from(sp.encodePayload(p));

const eventually = async (what: string, check: () => boolean, ms = 10_000): Promise<void> => {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

const connect = async (port: number, clientId: string, extra: IClientOptions = {}): Promise<MqttClient> => {
  const client = mqtt.connect({ host: '127.0.0.1', port, reconnectPeriod: 0, clientId, ...extra });
  await new Promise<void>((resolve, reject) => { client.once('connect', () => resolve()); client.once('error', reject); });
  return client;
};

describe('Sparkplug B against a real mosquitto', () => {
  it('NBIRTH → online (bdSeq, metrics by alias), D* messages, a seq gap, garbage, then the Will NDEATH → offline', async (t) => {
    const bin = requireMosquitto(t);
    if (!bin) return;
    const dir = mkdtempSync(join(tmpdir(), 'mcm-sparkplug-broker-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const broker = await startMosquitto(t, bin, { dir, lines: ['allow_anonymous true'] });

    const bus = createLiveBus();
    const states: LiveOf<'sparkplug_state'>[] = [];
    bus.subscribe((m) => { if (m.type === 'sparkplug_state') states.push(m); }, ['sparkplug_state']);
    const tracker = createSparkplugTracker({ bus, clock: { now: () => new Date().toISOString() }, logger: pino({ level: 'silent' }) });

    const sub = await connect(broker.port, `sp-observer-${process.pid}`);
    t.after(() => { sub.end(true); });
    sub.on('message', (topic, payload, packet) => {
      tracker.process({ topic, payload, qos: packet.qos, retain: packet.retain, receivedAt: Date.now() });
    });
    await sub.subscribeAsync({ 'spBv1.0/#': { qos: 1 }, 'STATE/#': { qos: 1 } });

    // The edge node registers its NDEATH (bdSeq 7) as the Will [tck-id-message-flow-edge-node-birth-publish-will-message].
    const edge = await connect(broker.port, `sp-edge-${process.pid}`, {
      will: { topic: 'spBv1.0/plant1/NDEATH/edge1', payload: fixture('sparkplug-ndeath.b64'), qos: 1, retain: false },
    });
    t.after(() => { edge.end(true); });
    const node = (): SparkplugNodeView | undefined => tracker.nodes().items.find((n) => n.group === 'plant1' && n.edge_node === 'edge1');
    const metric = (name: string) => node()?.metrics.find((m) => m.name === name);

    await edge.publishAsync('spBv1.0/plant1/NBIRTH/edge1', fixture('sparkplug-nbirth.b64'), { qos: 0 });
    await edge.publishAsync('spBv1.0/plant1/NDATA/edge1', fixture('sparkplug-ndata.b64'), { qos: 0 });
    await eventually('NBIRTH and NDATA', () => metric('Temperature')?.value === 22.25);
    assert.equal(node()?.state, 'online');
    assert.equal(node()?.bd_seq, 7);
    assert.equal(metric('Pressure')?.value, -15, 'alias 3 → Pressure, a signed Int64');
    assert.equal(metric('Status')?.value, 'RUNNING');

    // A device: born, updated by alias, dead; seq continues the node's counter.
    await edge.publishAsync('spBv1.0/plant1/DBIRTH/edge1/pump', encode({ timestamp: 1, seq: 2, metrics: [{ name: 'Speed', alias: 1, type: 'Int32', value: 100 }] }), { qos: 0 });
    await edge.publishAsync('spBv1.0/plant1/DDATA/edge1/pump', encode({ timestamp: 1, seq: 3, metrics: [{ alias: 1, type: 'Int32', value: 120 }] }), { qos: 0 });
    const pump = () => node()?.devices.find((d) => d.device === 'pump');
    await eventually('DBIRTH and DDATA', () => pump()?.metrics[0]?.value === 120);
    assert.equal(pump()?.state, 'online');
    await edge.publishAsync('spBv1.0/plant1/DDEATH/edge1/pump', encode({ timestamp: 1, seq: 4 }), { qos: 0 });
    await eventually('DDEATH', () => pump()?.state === 'offline');
    assert.equal(node()?.seq_gaps, 0);

    // seq 5 never comes: a gap.
    await edge.publishAsync('spBv1.0/plant1/NDATA/edge1', encode({ timestamp: 1, seq: 6, metrics: [{ alias: 2, type: 'Double', value: 23 }] }), { qos: 0 });
    await eventually('the seq gap', () => node()?.seq_gaps === 1);
    assert.deepEqual([node()?.last_seq_gap?.expected, node()?.last_seq_gap?.got], [5, 6]);

    // Garbage on spBv1.0 topics is counted; the tracker keeps working.
    await edge.publishAsync('spBv1.0/plant1/NDATA/edge1', Buffer.from('not a protobuf payload at all'), { qos: 0 });
    await edge.publishAsync('spBv1.0/plant1/BOGUS/edge1', Buffer.from('x'), { qos: 0 });
    await edge.publishAsync('spBv1.0/plant1/NDATA/edge1', encode({ timestamp: 1, seq: 7, metrics: [{ alias: 2, type: 'Double', value: 24.5 }] }), { qos: 0 });
    await eventually('the NDATA after the garbage', () => metric('Temperature')?.value === 24.5);
    assert.equal(tracker.counters().decode_errors, 1);
    assert.equal(tracker.counters().invalid_topics, 1);
    assert.equal(node()?.seq_gaps, 1);

    // The connection drops without DISCONNECT: mosquitto publishes the Will, the NDEATH.
    edge.end(true);
    await eventually('the Will NDEATH', () => node()?.state === 'offline');
    assert.equal(node()?.deaths, 1);
    assert.equal(node()?.bd_seq, 7);
    assert.equal(metric('Temperature')?.stale, true);
    assert.deepEqual(
      states.filter((s) => s.device === null && s.detail.reason !== 'seq_gap').map((s) => [s.state, s.detail.reason]),
      [['online', 'birth'], ['offline', 'death']],
    );
  });
});
