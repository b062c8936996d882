/**
 * The observer's HTTP routes against a real mosquitto (DESIGN §7, §8): GET /status, /clients,
 * /topics, /topics/{topic}; POST /broker/publish and DELETE /retained/{topic}, both audited and
 * refused without leaving an audit row when the broker is not reachable or the input is bad.
 * The observing side is wired as adapters/main.ts wires it (createObservation), with the broker's
 * stderr in a BrokerLog as the supervisor does.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it, type TestContext } from 'node:test';
import type { MqttClient } from 'mqtt';
import { createLiveBus } from '../../adapters/live/live-bus.ts';
import { createBrokerLog } from '../../adapters/mosquitto/broker-log.ts';
import { createObservation, type Observation } from '../../adapters/mqtt/observation.ts';
import { requireMosquitto, type Broker } from '../helpers/mosquitto.ts';
import { createTestApp, type TestApp } from '../helpers/http.ts';
import { connectClient, endClient, observerConfig, startBroker, SVC, SVC_PASSWORD, waitFor, writeBrokerFiles } from './observer-setup.ts';

type World = { broker: Broker; obs: Observation; h: TestApp; viewer: string; operator: string };

const world = async (t: TestContext, bin: string): Promise<World> => {
  const files = await writeBrokerFiles(t);
  const broker = await startBroker(t, bin, files);
  const brokerLog = createBrokerLog();
  brokerLog.write(broker.log());
  broker.child.stderr?.on('data', (b: Buffer) => brokerLog.write(b.toString()));
  const config = { ...observerConfig(broker.port), observer: { max_topics: 100, history_depth: 5, log_file: null } };
  const obs = createObservation({
    config,
    serviceAccount: { username: SVC, password: SVC_PASSWORD },
    bus: createLiveBus(),
    clock: { now: () => new Date().toISOString() },
    logger: { info() {}, warn() {}, error() {}, debug() {} },
    brokerLog,
    observer: { backoff: { initialMs: 100, maxMs: 500 }, statsThrottleMs: 100 },
  });
  t.after(() => obs.stop());
  await obs.start();
  await waitFor(() => obs.observer.connected(), 'the observer to connect');
  const h = await createTestApp(t, { deps: { observer: obs.api } });
  return { broker, obs, h, viewer: await h.tokenFor('viewer'), operator: await h.tokenFor('operator') };
};

/** Subscribes to `topics` in ONE SUBSCRIBE; retained messages come back in that order. */
const retainedOf = async (t: TestContext, port: number, topics: string[]): Promise<string[]> => {
  const c: MqttClient = await connectClient(t, port);
  const got: string[] = [];
  c.on('message', (topic, payload, packet) => { if (packet.retain) got.push(`${topic}=${payload.toString()}`); });
  await c.subscribeAsync(topics, { qos: 1 });
  await waitFor(() => got.some((g) => g.startsWith(`${topics[topics.length - 1]}=`)), 'the sentinel retained message');
  await endClient(c);
  return got;
};

describe('observer HTTP routes (real mosquitto)', () => {
  it('GET /status: broker up, version, uptime and stats as numbers, observer state, apply summary [ref §5]', async (t) => {
    const bin = requireMosquitto(t);
    if (!bin) return;
    const w = await world(t, bin);
    await waitFor(() => typeof w.obs.observer.stats().uptime_s === 'number' && typeof w.obs.observer.stats().values['clients/connected'] === 'number', '$SYS stats');
    const res = await w.h.request('GET', '/api/v1/status', { token: w.viewer });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.broker.up, true);
    assert.equal(res.body.broker.version, 'mosquitto version 2.0.11');
    assert.equal(typeof res.body.broker.uptime_s, 'number');
    assert.equal(typeof res.body.stats.values['clients/connected'], 'number');
    assert.equal(res.body.observer.state, 'up');
    assert.equal(res.body.clients.log_source, 'broker-log');
    assert.equal(res.body.apply.state, 'pending');
    assert.equal(res.body.stats.history, undefined, 'the history only on request: the 5 s refresh stays small');
  });

  it('GET /status?history_s: the counters of the last minutes, oldest first (issue 16); a bad value is a 400', async (t) => {
    const bin = requireMosquitto(t);
    if (!bin) return;
    const w = await world(t, bin);
    await waitFor(() => w.obs.observer.statsHistory().some((h) => typeof h.values['bytes/received'] === 'number'), 'a $SYS push with the byte counters');
    const res = await w.h.request('GET', '/api/v1/status?history_s=900', { token: w.viewer });
    assert.equal(res.status, 200, res.text);
    const history = res.body.stats.history as { at: string; values: Record<string, number>; figures: Record<string, unknown> }[];
    assert.ok(history.length >= 1);
    assert.ok(history.some((h) => typeof h.values['bytes/received'] === 'number'));
    const times = history.map((h) => Date.parse(h.at));
    assert.deepEqual(times, [...times].sort((a, b) => a - b), 'oldest first');
    for (const bad of ['0', '901', 'x', '1&history_s=2']) {
      const r = await w.h.request('GET', `/api/v1/status?history_s=${bad}`, { token: w.viewer });
      assert.equal(r.status, 400, `history_s=${bad}: ${r.text}`);
      assert.equal(r.body.error.code, 'MCM_ERR_VALIDATION');
    }
  });

  it('GET /clients: a client that connects appears with its details, and disappears with a reason when it leaves', async (t) => {
    const bin = requireMosquitto(t);
    if (!bin) return;
    const w = await world(t, bin);
    const id = 'meter (hall 2) #7';
    const c = await connectClient(t, w.broker.port, { clientId: id, protocolVersion: 5, keepalive: 42 });
    await waitFor(() => w.obs.clients.get(id) !== null, 'the connect line');
    const listed = await w.h.request('GET', '/api/v1/clients', { token: w.viewer });
    assert.equal(listed.status, 200, listed.text);
    const entry = listed.body.items.find((x: { client_id: string }) => x.client_id === id);
    assert.deepEqual(
      [entry?.username, entry?.address, entry?.protocol, entry?.keepalive, entry?.clean],
      ['alice', '127.0.0.1', 'mqtt v5', 42, true],
    );
    // MCM's own connections are not clients (issue 12): neither the observer nor the probes.
    assert.ok(!listed.body.items.some((x: { client_id: string }) => x.client_id.startsWith('mcm-observer-') || x.client_id.startsWith('mcm-probe-')));

    await endClient(c);
    await waitFor(() => w.obs.clients.get(id) === null, 'the disconnect line');
    const after = await w.h.request('GET', '/api/v1/clients', { token: w.viewer });
    assert.ok(!after.body.items.some((x: { client_id: string }) => x.client_id === id));
    assert.deepEqual([after.body.recent_disconnects[0]?.client_id, after.body.recent_disconnects[0]?.reason], [id, 'disconnected']);
  });

  it('POST /broker/publish: audited (size and SHA-256, not the payload), received by a real subscriber, then visible in /topics', async (t) => {
    const bin = requireMosquitto(t);
    if (!bin) return;
    const w = await world(t, bin);
    const sub = await connectClient(t, w.broker.port);
    const received: string[] = [];
    sub.on('message', (topic, payload) => received.push(`${topic}=${payload.toString()}`));
    await sub.subscribeAsync('plant/#', { qos: 1 });

    const before = w.h.eventCount();
    const res = await w.h.request('POST', '/api/v1/broker/publish', {
      token: w.operator, body: { topic: 'plant/line1/setpoint', payload: '{"sp":21}', qos: 1, retain: true },
    });
    assert.equal(res.status, 200, res.text);
    const sha = createHash('sha256').update('{"sp":21}').digest('hex');
    assert.deepEqual(res.body, { topic: 'plant/line1/setpoint', qos: 1, retain: true, bytes: 9, payload_sha256: sha, seq: before + 1 });
    assert.equal(res.headers.get('etag'), `"${before + 1}"`);
    const [event] = w.h.store.read({ after: before });
    assert.equal(event?.type, 'BrokerMessagePublished');
    assert.deepEqual(event?.data, { topic: 'plant/line1/setpoint', qos: 1, retain: true, bytes: 9, payloadSha256: sha });
    assert.equal(event?.actor.id, 'test-operator');
    await waitFor(() => received.includes('plant/line1/setpoint={"sp":21}'), 'the subscriber to receive it');

    await waitFor(() => w.obs.tree.get('plant/line1/setpoint') !== null, 'the observer to record it');
    const topic = await w.h.request('GET', `/api/v1/topics/${encodeURIComponent('plant/line1/setpoint')}`, { token: w.viewer });
    assert.equal(topic.status, 200, topic.text);
    assert.deepEqual([topic.body.retained, topic.body.qos, topic.body.last.preview_kind, topic.body.last.preview], [true, 1, 'json', '{\n  "sp": 21\n}']);
    const browse = await w.h.request('GET', '/api/v1/topics?prefix=plant', { token: w.viewer });
    assert.deepEqual(browse.body.items.map((i: { path: string; topics: number }) => [i.path, i.topics]), [['plant/line1', 1]]);
    const search = await w.h.request('GET', `/api/v1/topics?filter=${encodeURIComponent('plant/+/setpoint')}`, { token: w.viewer });
    assert.deepEqual(search.body.items.map((i: { topic: string }) => i.topic), ['plant/line1/setpoint']);
    const missing = await w.h.request('GET', '/api/v1/topics/nope', { token: w.viewer });
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error.code, 'MCM_ERR_TOPIC_NOT_FOUND');

    const b64 = await w.h.request('POST', '/api/v1/broker/publish', {
      token: w.operator, body: { topic: 'plant/raw', payload: Buffer.from([0, 255, 1]).toString('base64'), encoding: 'base64' },
    });
    assert.equal(b64.status, 200, b64.text);
    assert.equal(b64.body.bytes, 3);
    await endClient(sub);
  });

  it('DELETE /retained/{topic}: audited, and a new subscriber gets no retained message any more [MQTT-3.3.1-6/7]', async (t) => {
    const bin = requireMosquitto(t);
    if (!bin) return;
    const w = await world(t, bin);
    const alice = await connectClient(t, w.broker.port);
    await alice.publishAsync('plant/old', 'stale', { qos: 1, retain: true });
    await alice.publishAsync('sentinel/x', 'end', { qos: 1, retain: true });
    assert.deepEqual(await retainedOf(t, w.broker.port, ['plant/old', 'sentinel/x']), ['plant/old=stale', 'sentinel/x=end']);

    const before = w.h.eventCount();
    const res = await w.h.request('DELETE', `/api/v1/retained/${encodeURIComponent('plant/old')}`, { token: w.operator });
    assert.equal(res.status, 204, res.text);
    const [event] = w.h.store.read({ after: before });
    assert.deepEqual([event?.type, event?.data], ['RetainedMessageCleared', { topic: 'plant/old' }]);
    assert.deepEqual(await retainedOf(t, w.broker.port, ['plant/old', 'sentinel/x']), ['sentinel/x=end']);
    await waitFor(() => w.obs.tree.get('plant/old')?.retained === false, 'the tree to see the clear');
    await endClient(alice);
  });

  it('refuses bad publishes with no audit row: too large (413), bad base64, wildcard or $ topics (400), broker down (503)', async (t) => {
    const bin = requireMosquitto(t);
    if (!bin) return;
    const w = await world(t, bin);
    const before = w.h.eventCount();
    const post = (body: unknown) => w.h.request('POST', '/api/v1/broker/publish', { token: w.operator, body });
    const big = await post({ topic: 'plant/big', payload: 'x'.repeat(256 * 1024 + 1) });
    assert.deepEqual([big.status, big.body.error.code], [413, 'MCM_ERR_PAYLOAD_TOO_LARGE']);
    const badB64 = await post({ topic: 'plant/b', payload: 'not base64!', encoding: 'base64' });
    assert.deepEqual([badB64.status, badB64.body.error.code], [400, 'MCM_ERR_VALIDATION']);
    const wildcard = await post({ topic: 'plant/#', payload: 'x' });
    assert.deepEqual([wildcard.status, wildcard.body.error.code], [400, 'MCM_ERR_TOPIC_NAME_INVALID']);
    const sys = await post({ topic: '$SYS/broker/x', payload: 'x' });
    assert.deepEqual([sys.status, sys.body.error.code], [400, 'MCM_ERR_PUBLISH_INVALID']);
    const unknownField = await post({ topic: 'plant/a', payload: 'x', dup: true });
    assert.equal(unknownField.status, 400);
    const viewer = await w.h.request('POST', '/api/v1/broker/publish', { token: w.viewer, body: { topic: 'plant/a', payload: 'x' } });
    assert.equal(viewer.status, 403);

    await w.broker.stop();
    await waitFor(() => !w.obs.observer.connected(), 'the observer to see the broker go');
    const down = await post({ topic: 'plant/a', payload: 'x', qos: 1 });
    assert.deepEqual([down.status, down.body.error.code], [503, 'MCM_ERR_BROKER_UNAVAILABLE']);
    const clear = await w.h.request('DELETE', '/api/v1/retained/plant%2Fa', { token: w.operator });
    assert.deepEqual([clear.status, clear.body.error.code], [503, 'MCM_ERR_BROKER_UNAVAILABLE']);
    const status = await w.h.request('GET', '/api/v1/status', { token: w.viewer });
    assert.equal(status.body.broker.up, false);
    assert.equal(w.h.eventCount(), before, 'no refused request left an event');
  });
});

describe('observer HTTP routes without an observer', () => {
  it('answer 503 MCM_ERR_OBSERVER_UNAVAILABLE, except GET /status, which reports the broker state as unknown', async (t) => {
    const h = await createTestApp(t);
    const viewer = await h.tokenFor('viewer');
    const operator = await h.tokenFor('operator');
    for (const [method, path, token] of [
      ['GET', '/api/v1/clients', viewer], ['GET', '/api/v1/topics', viewer], ['GET', '/api/v1/topics/a', viewer],
      ['DELETE', '/api/v1/retained/a', operator],
    ] as const) {
      const res = await h.request(method, path, { token });
      assert.deepEqual([res.status, res.body.error?.code], [503, 'MCM_ERR_OBSERVER_UNAVAILABLE'], `${method} ${path}`);
    }
    const pub = await h.request('POST', '/api/v1/broker/publish', { token: operator, body: { topic: 'a', payload: 'x' } });
    assert.deepEqual([pub.status, pub.body.error?.code], [503, 'MCM_ERR_OBSERVER_UNAVAILABLE']);
    const status = await h.request('GET', '/api/v1/status', { token: viewer });
    assert.equal(status.status, 200);
    assert.deepEqual([status.body.broker.up, status.body.observer, status.body.stats], [null, null, null]);
    assert.equal(h.eventCount(), 4, 'only the four users the helper created');
  });
});
