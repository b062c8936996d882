/**
 * Sparkplug B session tracking (DESIGN §7; Sparkplug 3.0): births, deaths, bdSeq, seq gaps, stale
 * nodes, metric names resolved through birth aliases, devices under their node, garbage counted.
 *
 * Fixtures (fixtures/mqtt/*.b64, encoded with sparkplug-payload's encodePayload):
 *   sparkplug-nbirth.b64  timestamp 1700000000000, seq 0, metrics: bdSeq (UInt64, no alias) = 7,
 *                         "Node Control/Rebirth" alias 1 Boolean false, Temperature alias 2 Double 21.5,
 *                         Pressure alias 3 Int64 -12, Status alias 4 String "RUNNING"
 *   sparkplug-ndata.b64   timestamp 1700000001000, seq 1, metrics by alias only: 2 Double 22.25, 3 Int64 -15
 *   sparkplug-ndeath.b64  timestamp 1700000002000, no seq, metrics: bdSeq (UInt64) = 7
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it, type TestContext } from 'node:test';
import { pino } from 'pino';
import sparkplug from 'sparkplug-payload';
import proto from 'sparkplug-payload/lib/sparkplugPayloadProto.js';
import { createLiveBus, type LiveOf } from '../../adapters/live/live-bus.ts';
import { createSparkplugTracker, type SparkplugTrackerDeps } from '../../adapters/observer/sparkplug-tracker.ts';
import type { SparkplugNodeView } from '../../adapters/observer/sparkplug-view.ts';
import { createTestClock } from '../helpers/http.ts';

const fixture = (name: string): Buffer => Buffer.from(readFileSync(new URL(`../../fixtures/mqtt/${name}`, import.meta.url), 'utf8').trim(), 'base64');
const NBIRTH = fixture('sparkplug-nbirth.b64');
const NDATA = fixture('sparkplug-ndata.b64');
const NDEATH = fixture('sparkplug-ndeath.b64');

const sp = sparkplug.get('spBv1.0');
if (!sp) throw new Error('no spBv1.0 codec');
type Payload = Parameters<typeof sp.encodePayload>[0];
const encode = (p: Payload): Buffer => Buffer.from(sp.encodePayload(p));

const START = '2026-01-01T00:00:00.000Z';

const setup = (t: TestContext, options: Partial<SparkplugTrackerDeps> = {}) => {
  const clock = createTestClock(START);
  const bus = createLiveBus((e) => { throw e; });
  const states: LiveOf<'sparkplug_state'>[] = [];
  bus.subscribe((m) => { if (m.type === 'sparkplug_state') states.push(m); }, ['sparkplug_state']);
  const tracker = createSparkplugTracker({ bus, clock, logger: pino({ level: 'silent' }), ...options });
  t.after(() => tracker.stop());
  const send = (topic: string, payload: Buffer): void => {
    tracker.process({ topic, payload, qos: 0, retain: false, receivedAt: clock.ms() });
  };
  const node = (group = 'plant1', edge = 'edge1'): SparkplugNodeView => {
    const found = tracker.nodes().items.find((n) => n.group === group && n.edge_node === edge);
    assert.ok(found, `node ${group}/${edge} tracked`);
    return found;
  };
  const metric = (view: { metrics: { name: string; value: unknown; stale: boolean }[] }, name: string) => view.metrics.find((m) => m.name === name);
  return { clock, bus, states, tracker, send, node, metric };
};

const birth = (seq: number, bdSeq: number, extra: Payload['metrics'] = []): Buffer =>
  encode({ timestamp: 1, seq, metrics: [{ name: 'bdSeq', type: 'UInt64', value: bdSeq }, ...(extra ?? [])] });
const data = (seq: number, metrics: Payload['metrics'] = []): Buffer => encode({ timestamp: 1, seq, metrics });
const death = (bdSeq: number): Buffer => encode({ timestamp: 1, metrics: [{ name: 'bdSeq', type: 'UInt64', value: bdSeq }] });

describe('createSparkplugTracker: node sessions', () => {
  it('NBIRTH → online with bdSeq and named metrics; NDATA by alias updates them; NDEATH → offline, metrics stale', (t) => {
    const h = setup(t);
    h.send('spBv1.0/plant1/NBIRTH/edge1', NBIRTH);
    let n = h.node();
    assert.equal(n.state, 'online');
    assert.equal(n.birth_seen, true);
    assert.equal(n.bd_seq, 7);
    assert.equal(n.last_seq, 0);
    assert.deepEqual(n.metrics.map((m) => [m.name, m.alias, m.type, m.value]), [
      ['Node Control/Rebirth', 1, 'Boolean', false],
      ['Pressure', 3, 'Int64', -12],
      ['Status', 4, 'String', 'RUNNING'],
      ['Temperature', 2, 'Double', 21.5],
      ['bdSeq', null, 'UInt64', 7],
    ]);

    h.clock.advance(1);
    h.send('spBv1.0/plant1/NDATA/edge1', NDATA);
    n = h.node();
    assert.equal(h.metric(n, 'Temperature')?.value, 22.25, 'alias 2 resolved through the NBIRTH [tck-id-payloads-alias-data-cmd-requirement]');
    assert.equal(h.metric(n, 'Pressure')?.value, -15);
    assert.equal(n.last_seq, 1);
    assert.equal(n.seq_gaps, 0);

    h.clock.advance(1);
    h.send('spBv1.0/plant1/NDEATH/edge1', NDEATH);
    n = h.node();
    assert.equal(n.state, 'offline');
    assert.equal(n.births, 1);
    assert.equal(n.deaths, 1);
    assert.equal(n.bd_seq, 7);
    assert.equal(h.metric(n, 'Temperature')?.value, 22.25, 'last known value kept');
    assert.equal(h.metric(n, 'Temperature')?.stale, true, '[tck-id-operational-behavior-edge-node-termination-host-action-ndeath-node-tags-stale]');

    assert.deepEqual(h.states.map((s) => [s.state, s.detail.reason]), [['online', 'birth'], ['offline', 'death']]);
    assert.equal(h.states[0]?.group, 'plant1');
    assert.equal(h.states[0]?.edge_node, 'edge1');
    assert.equal(h.states[0]?.device, null);
    assert.equal(h.states[0]?.detail.bd_seq, 7);
  });

  it('ignores an NDEATH whose bdSeq is not the current session\'s: a late Will of an earlier connection [tck-id-topics-nbirth-bdseq-matching]', (t) => {
    const h = setup(t);
    h.send('spBv1.0/g/NBIRTH/n', birth(0, 4));
    h.send('spBv1.0/g/NDEATH/n', death(3));
    assert.equal(h.node('g', 'n').state, 'online');
    assert.equal(h.node('g', 'n').ignored_deaths, 1);
    assert.equal(h.tracker.counters().ignored_deaths, 1);
    h.send('spBv1.0/g/NDEATH/n', death(4));
    assert.equal(h.node('g', 'n').state, 'offline');
  });

  it('counts seq gaps across N* and D* messages; 255 → 0 is not a gap [tck-id-payloads-sequence-num-incrementing]', (t) => {
    const h = setup(t);
    h.send('spBv1.0/g/NBIRTH/n', birth(0, 1));
    h.send('spBv1.0/g/NDATA/n', data(1));
    h.send('spBv1.0/g/DBIRTH/n/d', data(2));
    h.send('spBv1.0/g/DDATA/n/d', data(3));
    assert.equal(h.node('g', 'n').seq_gaps, 0);
    h.send('spBv1.0/g/NDATA/n', data(5)); // 4 is missing
    let n = h.node('g', 'n');
    assert.equal(n.seq_gaps, 1);
    assert.deepEqual({ expected: n.last_seq_gap?.expected, got: n.last_seq_gap?.got }, { expected: 4, got: 5 });
    const gap = h.states.find((s) => s.detail.reason === 'seq_gap');
    assert.ok(gap);
    assert.equal(gap.detail.expected, 4);
    for (let seq = 6; seq <= 255; seq++) h.send('spBv1.0/g/NDATA/n', data(seq));
    h.send('spBv1.0/g/NDATA/n', data(0));
    h.send('spBv1.0/g/NDATA/n', data(1));
    n = h.node('g', 'n');
    assert.equal(n.seq_gaps, 1);
    assert.equal(n.last_seq, 1);
    // A new session restarts the count at the NBIRTH's seq.
    h.send('spBv1.0/g/NBIRTH/n', birth(0, 2));
    h.send('spBv1.0/g/NDATA/n', data(1));
    assert.equal(h.node('g', 'n').seq_gaps, 1);
    assert.equal(h.tracker.counters().seq_gaps, 1);
  });

  it('marks an online node silent for staleAfterMs as stale, and online again on its next message', (t) => {
    const h = setup(t, { staleAfterMs: 60_000 });
    h.send('spBv1.0/g/NBIRTH/n', birth(0, 1));
    h.clock.advance(59);
    h.tracker.checkStale();
    assert.equal(h.node('g', 'n').state, 'online');
    h.clock.advance(2);
    assert.equal(h.node('g', 'n').state, 'stale', 'nodes() checks staleness itself');
    assert.deepEqual(h.states.map((s) => s.state), ['online', 'stale']);
    h.tracker.checkStale();
    assert.equal(h.states.length, 2, 'stale is announced once');
    h.send('spBv1.0/g/NDATA/n', data(1));
    assert.equal(h.node('g', 'n').state, 'online');
    assert.deepEqual(h.states.map((s) => [s.state, s.detail.reason]).at(-1), ['online', 'alive']);
  });

  it('tracks a node first seen mid-session (no birth) as online, counting metrics it cannot name', (t) => {
    const h = setup(t);
    h.send('spBv1.0/g/NDATA/n', data(17, [{ alias: 9, type: 'Double', value: 1 }, { name: 'Named', type: 'Int32', value: -3 }]));
    const n = h.node('g', 'n');
    assert.equal(n.state, 'online');
    assert.equal(n.birth_seen, false);
    assert.deepEqual(n.metrics.map((m) => [m.name, m.value]), [['Named', -3]]);
    assert.equal(h.tracker.counters().unknown_aliases, 1);
  });

  it('decodes DATA metrics sent without a datatype with the type their birth declared [tck-id-payloads-metric-datatype-not-req]', (t) => {
    const h = setup(t);
    h.send('spBv1.0/g/NBIRTH/n', birth(0, 1, [
      { name: 'Level', alias: 5, type: 'Int32', value: 10 },
      { name: 'Count', alias: 6, type: 'Int64', value: 10 },
      { name: 'Ratio', alias: 7, type: 'Float', value: 0.5 },
    ]));
    // The codec's encoder always writes a datatype; build the wire form directly.
    const P = proto.org.eclipse.tahu.protobuf.Payload;
    const raw = Buffer.from(P.encode(P.create({
      seq: 1,
      metrics: [{ alias: 5, intValue: 0xfffffffe }, { alias: 6, longValue: { low: -1, high: -1, unsigned: true } as unknown as number }, { alias: 7, floatValue: 0.25 }],
    })).finish());
    h.send('spBv1.0/g/NDATA/n', raw);
    const n = h.node('g', 'n');
    assert.equal(h.metric(n, 'Level')?.value, -2, 'Int32 travels as a uint32');
    assert.equal(h.metric(n, 'Count')?.value, -1, 'Int64 travels as a uint64');
    assert.equal(h.metric(n, 'Ratio')?.value, 0.25);
  });
});

describe('createSparkplugTracker: devices', () => {
  it('DBIRTH → device online with its own aliases; DDATA by alias; DDEATH → offline; NDEATH takes devices down', (t) => {
    const h = setup(t);
    h.send('spBv1.0/g/NBIRTH/n', birth(0, 1, [{ name: 'Temperature', alias: 1, type: 'Double', value: 1 }]));
    h.send('spBv1.0/g/DBIRTH/n/pump', data(1, [{ name: 'Speed', alias: 1, type: 'Int32', value: 100 }]));
    h.send('spBv1.0/g/DDATA/n/pump', data(2, [{ alias: 1, type: 'Int32', value: 120 }]));
    let n = h.node('g', 'n');
    const pump = n.devices.find((d) => d.device === 'pump');
    assert.ok(pump);
    assert.equal(pump.state, 'online');
    assert.deepEqual(pump.metrics.map((m) => [m.name, m.value]), [['Speed', 120]], 'device alias 1 is not the node\'s alias 1');
    assert.equal(h.metric(n, 'Temperature')?.value, 1);

    h.send('spBv1.0/g/DDEATH/n/pump', data(3));
    n = h.node('g', 'n');
    assert.equal(n.devices[0]?.state, 'offline');
    assert.equal(n.devices[0]?.deaths, 1);
    assert.equal(n.devices[0]?.metrics[0]?.stale, true);
    assert.equal(n.state, 'online');

    h.send('spBv1.0/g/DBIRTH/n/pump', data(4, [{ name: 'Speed', alias: 1, type: 'Int32', value: 0 }]));
    assert.equal(h.node('g', 'n').devices[0]?.state, 'online');
    h.send('spBv1.0/g/NDEATH/n', death(1));
    n = h.node('g', 'n');
    assert.equal(n.devices[0]?.state, 'offline', '[tck-id-operational-behavior-edge-node-termination-host-action-ndeath-devices-offline]');
    assert.equal(n.devices[0]?.births, 2);
    assert.deepEqual(
      h.states.filter((s) => s.device === 'pump').map((s) => [s.state, s.detail.reason]),
      [['online', 'birth'], ['offline', 'death'], ['online', 'birth']],
    );
  });

  it('counts NCMD/DCMD from host applications without treating them as signs of life', (t) => {
    const h = setup(t, { staleAfterMs: 1000 });
    h.send('spBv1.0/g/NBIRTH/n', birth(0, 1));
    h.clock.advance(2);
    h.send('spBv1.0/g/NCMD/n', data(0, [{ name: 'Node Control/Rebirth', type: 'Boolean', value: true }]));
    h.send('spBv1.0/g/DCMD/n/d', data(0));
    const n = h.node('g', 'n');
    assert.equal(n.commands, 2);
    assert.equal(n.state, 'stale');
    assert.equal(n.seq_gaps, 0, 'commands carry no seq of the node');
  });
});

describe('createSparkplugTracker: bad input and bounds', () => {
  it('counts garbage payloads and malformed spBv1.0 topics, and keeps tracking afterwards', (t) => {
    const h = setup(t);
    h.send('spBv1.0/g/NBIRTH/n', Buffer.from('this is not protobuf'));
    h.send('spBv1.0/g/NDATA/n', Buffer.from([0xff, 0xff, 0xff]));
    h.send('spBv1.0/g/NOPE/n', NBIRTH);
    h.send('spBv1.0/g/DDATA/n', NDATA);
    h.send('plant/temp', Buffer.from('21.5')); // not Sparkplug: not counted at all
    assert.deepEqual(h.tracker.nodes().items, []);
    const c = h.tracker.counters();
    assert.equal(c.decode_errors, 2);
    assert.equal(c.invalid_topics, 2);
    assert.equal(c.messages, 2);
    h.send('spBv1.0/plant1/NBIRTH/edge1', NBIRTH);
    assert.equal(h.node().state, 'online');
  });

  it('records host applications from STATE in both forms, and counts unreadable STATE payloads', (t) => {
    const h = setup(t);
    h.send('spBv1.0/STATE/scada', Buffer.from(JSON.stringify({ online: true, timestamp: 1 })));
    h.send('STATE/legacy', Buffer.from('OFFLINE'));
    h.send('STATE/other', Buffer.from('maybe'));
    assert.deepEqual(h.tracker.nodes().hosts.map((x) => [x.host_id, x.online, x.version]), [
      ['legacy', false, '2.2'], ['scada', true, '3.0'],
    ]);
    assert.equal(h.tracker.counters().decode_errors, 1);
  });

  it('keeps at most maxNodes nodes (least recently seen evicted) and maxMetricsPerSession metrics, counting the overflow', (t) => {
    const h = setup(t, { maxNodes: 2, maxMetricsPerSession: 2, maxDevicesPerNode: 1 });
    h.send('spBv1.0/g/NBIRTH/a', birth(0, 1));
    h.send('spBv1.0/g/NBIRTH/b', birth(0, 1, [{ name: 'x', type: 'Int32', value: 1 }, { name: 'y', type: 'Int32', value: 2 }]));
    h.send('spBv1.0/g/NDATA/a', data(1));
    h.send('spBv1.0/g/NBIRTH/c', birth(0, 1));
    assert.deepEqual(h.tracker.nodes().items.map((n) => n.edge_node), ['a', 'c']);
    const c = h.tracker.counters();
    assert.equal(c.nodes_evicted, 1);
    assert.equal(c.metrics_dropped, 1, 'b defined bdSeq, x, y: one over the bound');
    h.send('spBv1.0/g/DBIRTH/a/d1', data(2));
    h.send('spBv1.0/g/DBIRTH/a/d2', data(3));
    assert.equal(h.tracker.counters().devices_dropped, 1);
    assert.deepEqual(h.node('g', 'a').devices.map((d) => d.device), ['d1']);
  });
});
