/**
 * The observer against a real mosquitto 2.0.11 (DESIGN §7): it logs in as the service account
 * with the files MCM renders, keeps `$SYS` stats as numbers (reference §5), hands every message
 * to the processors with its real QoS and retain flag, survives a processor that throws,
 * publishes as the service account, and follows the broker down and back up.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { LiveMessage } from '../../adapters/live/live-bus.ts';
import type { MessageProcessor, ObservedMessage } from '../../adapters/live/observed-message.ts';
import { requireMosquitto, startMosquitto } from '../helpers/mosquitto.ts';
import { createLiveBus } from '../../adapters/live/live-bus.ts';
import { createObserver } from '../../adapters/mqtt/observer.ts';
import { connectClient, endClient, observerConfig, startBroker, startObserver, SVC, SVC_PASSWORD, waitFor, writeBrokerFiles } from './observer-setup.ts';

const statuses = (seen: LiveMessage[]): boolean[] => seen.flatMap((m) => (m.type === 'broker_status' ? [m.up] : []));

describe('observer (real mosquitto)', () => {
  it('connects as the service account, says the broker is up, and keeps $SYS stats as numbers [ref §5]', async (t) => {
    const bin = requireMosquitto(t);
    if (!bin) return;
    const files = await writeBrokerFiles(t);
    const broker = await startBroker(t, bin, files);
    const { observer, seen } = startObserver(t, broker.port);
    await waitFor(() => observer.connected(), 'the observer to connect');
    assert.deepEqual(statuses(seen), [true]);
    // The retained value at subscribe time may predate our own connection: wait for the update.
    await waitFor(() => Number(observer.stats().values['clients/connected']) >= 1 && observer.stats().uptime_s !== null, '$SYS stats');
    const s = observer.stats();
    assert.equal(s.version, 'mosquitto version 2.0.11');
    assert.equal(typeof s.uptime_s, 'number');
    assert.equal(typeof s.values['clients/connected'], 'number');
    await waitFor(() => typeof observer.stats().values['load/messages/received/1min'] === 'number', 'a load average');
    assert.ok(seen.some((m) => m.type === 'broker_stats'), 'broker_stats pushed on the bus');
    assert.equal(observer.status().state, 'up');
  });

  it('hands each message to every processor with its QoS and retain flag, counts a throwing processor, and pushes topic_message', async (t) => {
    const bin = requireMosquitto(t);
    if (!bin) return;
    const files = await writeBrokerFiles(t);
    const broker = await startBroker(t, bin, files);
    const got: ObservedMessage[] = [];
    const recorder: MessageProcessor = { name: 'recorder', process: (m) => { got.push(m); } };
    const broken: MessageProcessor = { name: 'broken', process: () => { throw new Error('boom'); } };
    const { observer, seen } = startObserver(t, broker.port, { processors: [broken, recorder] });
    await waitFor(() => observer.connected(), 'the observer to connect');

    const alice = await connectClient(t, broker.port, { protocolVersion: 5 });
    await alice.publishAsync('plant/line1/temp', '{"t":21.5}', { qos: 1, retain: true });
    await alice.publishAsync('plant/line1/raw', Buffer.from([0, 1, 2]), { qos: 2 });
    await waitFor(() => got.length >= 2, 'two messages at the processors');

    const byTopic = new Map(got.map((m) => [m.topic, m]));
    assert.deepEqual([byTopic.get('plant/line1/temp')?.qos, byTopic.get('plant/line1/temp')?.retain], [1, true], 'retain as published (v5)');
    assert.deepEqual([byTopic.get('plant/line1/raw')?.qos, byTopic.get('plant/line1/raw')?.retain], [2, false]);
    assert.ok(got.every((m) => !m.topic.startsWith('$')), 'no $SYS or $mcm message reaches a processor');
    assert.equal(observer.status().processor_failures['broken'], got.length);
    const live = seen.filter((m) => m.type === 'topic_message');
    assert.ok(live.some((m) => m.type === 'topic_message' && m.topic === 'plant/line1/temp' && m.preview === '{"t":21.5}' && m.preview_kind === 'json' && m.retain));
    assert.ok(live.some((m) => m.type === 'topic_message' && m.topic === 'plant/line1/raw' && m.preview_kind === 'binary'));
    await endClient(alice);
  });

  it('publishes as the service account once the broker acknowledged it, and reports a refusal (v5 PUBACK 0x87) [ref §2.4]', async (t) => {
    const bin = requireMosquitto(t);
    if (!bin) return;
    const files = await writeBrokerFiles(t);
    const broker = await startBroker(t, bin, files);
    const { observer } = startObserver(t, broker.port);
    await waitFor(() => observer.connected(), 'the observer to connect');
    const alice = await connectClient(t, broker.port);
    const received: string[] = [];
    alice.on('message', (topic, payload) => received.push(`${topic}=${payload.toString()}`));
    await alice.subscribeAsync('plant/#', { qos: 1 });
    await observer.publish('plant/cmd', Buffer.from('go'), { qos: 1, retain: false });
    await waitFor(() => received.includes('plant/cmd=go'), 'the subscriber to receive the publish');
    // Nothing lets the service account write $mcm/canary (DESIGN §6): the broker refuses it.
    await assert.rejects(observer.publish('$mcm/canary', Buffer.from('x'), { qos: 1, retain: false }), /Not authorized|0x87|135/i);
    await endClient(alice);
  });

  it('goes down when the broker stops and back up when it returns, with the reason [DESIGN §7]', async (t) => {
    const bin = requireMosquitto(t);
    if (!bin) return;
    const files = await writeBrokerFiles(t);
    const broker = await startBroker(t, bin, files);
    const { observer, seen } = startObserver(t, broker.port);
    await waitFor(() => observer.connected(), 'the observer to connect');
    await broker.stop();
    await waitFor(() => statuses(seen).length === 2, 'broker_status down');
    const down = seen.filter((m) => m.type === 'broker_status')[1];
    assert.ok(down?.type === 'broker_status' && !down.up && typeof down.reason === 'string' && down.reason.length > 0, JSON.stringify(down));
    assert.equal(observer.connected(), false);
    await assert.rejects(observer.publish('plant/x', Buffer.from('x'), { qos: 0, retain: false }), /not connected/);

    await startMosquitto(t, bin, {
      dir: files.dir, port: broker.port,
      lines: ['allow_anonymous false', `password_file ${files.passwd}`, `acl_file ${files.acl}`, 'sys_interval 1'],
    });
    await waitFor(() => observer.connected(), 'the observer to reconnect');
    assert.deepEqual(statuses(seen), [true, false, true], 'one transition each way, however many retries');
    assert.equal(observer.status().reconnects, 1);
  });

  it('reconnects at once when told the broker is back (the supervisor restarted it), not after its backoff', async (t) => {
    const bin = requireMosquitto(t);
    if (!bin) return;
    const files = await writeBrokerFiles(t);
    const broker = await startBroker(t, bin, files);
    const bus = createLiveBus();
    const silent = { info() {}, warn() {}, error() {}, debug() {} };
    const observer = createObserver({
      config: observerConfig(broker.port), serviceAccount: { username: SVC, password: SVC_PASSWORD }, bus,
      clock: { now: () => new Date().toISOString() }, logger: silent, processors: [],
      backoff: { initialMs: 60_000, maxMs: 60_000 }, // a retry would only come after a minute
    });
    t.after(() => observer.stop());
    observer.start();
    await waitFor(() => observer.connected(), 'the observer to connect');
    observer.reconnectNow(); // up: nothing to do
    assert.equal(observer.status().reconnects, 0);
    await broker.stop();
    await waitFor(() => observer.status().state === 'down', 'the observer to go down');
    await startMosquitto(t, bin, {
      dir: files.dir, port: broker.port,
      lines: ['allow_anonymous false', `password_file ${files.passwd}`, `acl_file ${files.acl}`, 'sys_interval 1'],
    });
    const t0 = Date.now();
    observer.reconnectNow();
    await waitFor(() => observer.connected(), 'the observer to reconnect', 10_000);
    assert.ok(Date.now() - t0 < 10_000);
    assert.equal(observer.status().reconnects, 1);
  });

  it('stays down with the broker\'s reason when the password is wrong, and keeps retrying', async (t) => {
    const bin = requireMosquitto(t);
    if (!bin) return;
    const files = await writeBrokerFiles(t);
    const broker = await startBroker(t, bin, files);
    const { observer, seen } = startObserver(t, broker.port, { password: `${SVC_PASSWORD}-wrong` });
    await waitFor(() => statuses(seen).length === 1, 'broker_status down');
    const down = seen.find((m) => m.type === 'broker_status');
    assert.ok(down?.type === 'broker_status' && !down.up);
    assert.match(down.reason ?? '', /not authori[sz]ed/i);
    const attempts = (): number => (broker.log().match(/disconnected, not authorised/g) ?? []).length;
    await waitFor(() => attempts() >= 3, 'a few retries');
    assert.deepEqual(statuses(seen), [false], 'retries while down push nothing new');
    assert.equal(observer.status().state, 'down');
  });

  it('connects over TLS with the CA from config.mqtt.tls, and refuses a broker certificate it cannot verify', async (t) => {
    const bin = requireMosquitto(t);
    if (!bin) return;
    const files = await writeBrokerFiles(t);
    const ssl = (args: string[]): void => {
      const r = spawnSync('openssl', args, { cwd: files.dir });
      if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr.toString()}`);
    };
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    ssl(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', '/CN=mcm-test-ca', '-days', '2']);
    ssl(['req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1']);
    writeFileSync(join(files.dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
    ssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'san.ext']);
    const broker = await startBroker(t, bin, files, [
      `cafile ${join(files.dir, 'ca.crt')}`, `certfile ${join(files.dir, 'server.crt')}`, `keyfile ${join(files.dir, 'server.key')}`,
    ]);
    const start = (ca: string | null) => {
      const config = observerConfig(broker.port);
      config.mqtt.tls = { enabled: true, ca, cert: null, key: null, reject_unauthorized: true };
      const bus = createLiveBus();
      const seen: boolean[] = [];
      bus.subscribe((m) => { if (m.type === 'broker_status') seen.push(m.up); });
      const o = createObserver({
        config, serviceAccount: { username: SVC, password: SVC_PASSWORD }, bus, clock: { now: () => new Date().toISOString() },
        logger: { info() {}, warn() {}, error() {}, debug() {} }, processors: [], backoff: { initialMs: 100, maxMs: 500 },
      });
      t.after(() => o.stop());
      o.start();
      return { o, seen };
    };
    const trusted = start(join(files.dir, 'ca.crt'));
    await waitFor(() => trusted.o.connected(), 'a TLS connection with the configured CA');
    assert.match(trusted.o.status().broker, /^mqtts:/);
    const untrusted = start(null);
    await waitFor(() => untrusted.seen.length > 0, 'the untrusted attempt to fail');
    assert.deepEqual(untrusted.seen, [false]);
    assert.match(untrusted.o.status().reason ?? '', /certificate/i);
  });
});
