/**
 * The observer against a real mosquitto 2.0.11 (DESIGN §7): it logs in as the service account
 * with the files MCM renders, keeps `$SYS` stats as numbers (reference §5), hands every message
 * to the processors with its real QoS and retain flag, survives a processor that throws,
 * publishes as the service account, and follows the broker down and back up.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LiveMessage } from '../../adapters/live/live-bus.ts';
import type { MessageProcessor, ObservedMessage } from '../../adapters/live/observed-message.ts';
import { requireMosquitto, startMosquitto } from '../helpers/mosquitto.ts';
import { connectClient, endClient, startBroker, startObserver, SVC_PASSWORD, waitFor, writeBrokerFiles } from './observer-setup.ts';

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
});
