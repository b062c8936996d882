/**
 * Issue 12 against a real mosquitto 2.0.11 and the observing side wired as adapters/main.ts wires
 * it (createObservation, the broker's stderr as the connection log):
 * - the message figures are PUBLISH counts (`$SYS/broker/publish/messages/*`, reference §5):
 *   clients that connect, ping and leave without publishing don't move them (they do move
 *   `$SYS/broker/messages/*`), publishes do, and the copies the broker delivers to MCM's own
 *   observer (`#`, `$SYS/#`) are not counted as sent;
 * - every client count leaves MCM's own connections out (observer, probe, the service account):
 *   with N device clients connected, GET /status, GET /clients, the ws snapshot, `broker_stats`
 *   and the /metrics gauge all say N, while `$SYS/broker/clients/connected` says more.
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import type { MqttClient } from 'mqtt';
import { createLiveBus, type LiveBus, type LiveOf } from '../../adapters/live/live-bus.ts';
import { createMetrics } from '../../adapters/metrics/registry.ts';
import { createBrokerLog } from '../../adapters/mosquitto/broker-log.ts';
import { openProbeSession } from '../../adapters/mosquitto/probe.ts';
import { createObservation, type Observation } from '../../adapters/mqtt/observation.ts';
import { observerSnapshot } from '../../adapters/mqtt/observer-api.ts';
import { requireMosquitto, type Broker } from '../helpers/mosquitto.ts';
import { createTestApp, type TestApp } from '../helpers/http.ts';
import { connectClient, endClient, observerConfig, startBroker, SVC, SVC_PASSWORD, waitFor, writeBrokerFiles } from './observer-setup.ts';

type World = { broker: Broker; obs: Observation; bus: LiveBus; h: TestApp; viewer: string };

const world = async (t: TestContext, bin: string): Promise<World> => {
  const files = await writeBrokerFiles(t);
  const broker = await startBroker(t, bin, files);
  const brokerLog = createBrokerLog();
  brokerLog.write(broker.log());
  broker.child.stderr?.on('data', (b: Buffer) => brokerLog.write(b.toString()));
  const bus = createLiveBus();
  const obs = createObservation({
    config: { ...observerConfig(broker.port), observer: { max_topics: 100, history_depth: 5, log_file: null } },
    serviceAccount: { username: SVC, password: SVC_PASSWORD },
    bus,
    clock: { now: () => new Date().toISOString() },
    logger: { info() {}, warn() {}, error() {}, debug() {} },
    brokerLog,
    observer: { backoff: { initialMs: 100, maxMs: 500 }, statsThrottleMs: 50 },
  });
  t.after(() => obs.stop());
  await obs.start();
  await waitFor(() => obs.observer.connected(), 'the observer to connect');
  const h = await createTestApp(t, { deps: { observer: obs.api } });
  return { broker, obs, bus, h, viewer: await h.tokenFor('viewer') };
};

const sys = (w: World, key: string): number => Number(w.obs.observer.stats().values[key]);
const uptime = (w: World): number => w.obs.observer.stats().uptime_s ?? -1;
/** Lets the broker publish `$SYS` (sys_interval 1) at least `n` more times. */
const sysTicks = async (w: World, n: number): Promise<void> => {
  const until = uptime(w) + n;
  await waitFor(() => uptime(w) >= until, `${n} more $SYS updates`);
};
const figures = async (w: World): Promise<Record<string, number | null>> => {
  const res = await w.h.request('GET', '/api/v1/status', { token: w.viewer });
  assert.equal(res.status, 200, res.text);
  return res.body.stats.figures;
};

describe('MCM figures leave MCM out (issue 12, real mosquitto)', () => {
  it('PUBLISH figures: connects and pings move $SYS messages/* but not them; publishes do, MCM\'s own copies left out [ref §5]', async (t) => {
    const bin = requireMosquitto(t);
    if (!bin) return;
    const w = await world(t, bin);
    await waitFor(() => w.obs.observer.stats().figures.publish_sent !== null && w.obs.observer.stats().figures.publish_received !== null, 'the PUBLISH figures');
    await sysTicks(w, 2);
    const before = await figures(w);
    const packetsBefore = sys(w, 'messages/received');

    // Five clients connect, ping (keepalive 1 s) and leave without publishing.
    const idle: MqttClient[] = [];
    for (let i = 0; i < 5; i++) idle.push(await connectClient(t, w.broker.port, { clientId: `idle-${i}`, keepalive: 1 }));
    await new Promise((r) => setTimeout(r, 2500));
    for (const c of idle) await endClient(c);
    await waitFor(() => sys(w, 'messages/received') > packetsBefore, '$SYS messages/received to count the CONNECTs and PINGREQs');
    await sysTicks(w, 3); // meanwhile the broker sends the observer a dozen $SYS updates a second
    const idleAfter = await figures(w);
    assert.equal(idleAfter['publish_received'], before['publish_received'], 'no PUBLISH received');
    assert.equal(idleAfter['publish_sent'], before['publish_sent'], 'no PUBLISH sent to anyone but MCM');

    // A subscriber, then 20 publishes: 20 received, 20 copies sent to the subscriber (and 20 to MCM's observer, not counted).
    const sub = await connectClient(t, w.broker.port, { clientId: 'subscriber' });
    await sub.subscribeAsync('plant/#', { qos: 0 });
    const pub = await connectClient(t, w.broker.port, { clientId: 'publisher' });
    for (let i = 0; i < 20; i++) await pub.publishAsync('plant/line1/temp', String(i), { qos: 1 });
    const want = { received: Number(before['publish_received']) + 20, sent: Number(before['publish_sent']) + 20 };
    await waitFor(() => {
      const f = w.obs.observer.stats().figures;
      return f.publish_received === want.received && f.publish_sent === want.sent;
    }, `publish_received ${want.received} and publish_sent ${want.sent}, got ${JSON.stringify(w.obs.observer.stats().figures)}`);
    await sysTicks(w, 2);
    const after = await figures(w);
    assert.deepEqual([after['publish_received'], after['publish_sent']], [want.received, want.sent]);
    const pushed: LiveOf<'broker_stats'>[] = [];
    w.bus.subscribe((m) => { if (m.type === 'broker_stats') pushed.push(m); }, ['broker_stats']);
    await sysTicks(w, 1);
    await waitFor(() => pushed.length > 0, 'a broker_stats push');
    assert.equal(pushed.at(-1)?.figures.publish_received, want.received, 'broker_stats carries the figures');
    await endClient(sub);
    await endClient(pub);
  });

  it('client counts: with N device clients and MCM\'s observer, probe and service-account connections, every count says N', async (t) => {
    const bin = requireMosquitto(t);
    if (!bin) return;
    const w = await world(t, bin);
    const N = 3;
    for (let i = 0; i < N; i++) await connectClient(t, w.broker.port, { clientId: `device-${i}` });
    // MCM's own: the observer (already up), a probe connection and another service-account login.
    const probe = openProbeSession({ host: '127.0.0.1', port: w.broker.port, username: SVC, password: SVC_PASSWORD }, 10_000);
    t.after(() => probe.close());
    assert.ok(!('ok' in (await probe.ready)), 'the probe connection is up');
    await connectClient(t, w.broker.port, { clientId: 'mcm-cli-tool', username: SVC, password: SVC_PASSWORD });
    await waitFor(() => sys(w, 'clients/connected') === N + 3, `$SYS clients/connected = N + 3 (it counts everyone), got ${sys(w, 'clients/connected')}`);
    // The connection log has every line up to the last connect.
    await w.broker.waitForLog(/ as mcm-cli-tool \(/);
    await waitFor(() => w.obs.clients.get('device-2') !== null, 'the device connect lines in the clients table');
    await new Promise((r) => setTimeout(r, 200));

    const status = await w.h.request('GET', '/api/v1/status', { token: w.viewer });
    assert.equal(status.body.clients.connected, N, 'GET /status clients.connected');
    assert.equal(status.body.stats.figures.clients_connected, N, 'GET /status stats.figures.clients_connected ($SYS minus MCM)');
    const list = await w.h.request('GET', '/api/v1/clients', { token: w.viewer });
    assert.equal(list.body.total, N, 'GET /clients total');
    assert.deepEqual(list.body.items.map((c: { client_id: string }) => c.client_id), ['device-0', 'device-1', 'device-2']);
    const snap = observerSnapshot(w.obs.api);
    assert.equal(snap.clients.length, N, 'ws snapshot clients');
    assert.equal((snap.stats['figures'] as { clients_connected: number }).clients_connected, N, 'ws snapshot figures');
    const pushed: LiveOf<'broker_stats'>[] = [];
    w.bus.subscribe((m) => { if (m.type === 'broker_stats') pushed.push(m); }, ['broker_stats']);
    await sysTicks(w, 1);
    await waitFor(() => pushed.length > 0, 'a broker_stats push');
    assert.equal(pushed.at(-1)?.figures.clients_connected, N, 'ws broker_stats figures');
    const metrics = createMetrics({ sources: { mqttClients: () => w.obs.clients.size() } });
    assert.match(await metrics.render(), new RegExp(`^mcm_mqtt_clients_connected ${N}$`, 'm'), '/metrics gauge');
  });
});
