/**
 * The live channel under bad clients (DESIGN §7): a client that stops reading gets topic
 * messages coalesced per topic and a drop counter, and is closed with 1013 when even that is not
 * enough; garbage frames close that client and nobody else; peers that stop answering pings are
 * terminated. Real sockets: the slow client pauses its socket, so the server's buffer fills.
 */
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { JWT_SECRET_NAME } from '../../adapters/http/auth/services.ts';
import { createTokenService } from '../../adapters/http/auth/jwt.ts';
import { createLiveBus, type LiveBus, type LiveMessage } from '../../adapters/live/live-bus.ts';
import { createWsHub, type WsHub, type WsHubOptions } from '../../adapters/ws/hub.ts';
import { wsAuthenticator } from '../../adapters/ws/ws-auth.ts';
import { createTestApp } from '../helpers/http.ts';
import { bearer, openWs, wsUrl, type WsTestClient } from '../helpers/ws-client.ts';

const AT = '2026-01-01T00:00:00.000Z';

type Live = { bus: LiveBus; hub: WsHub; dropsCounted: () => number; connect: () => Promise<WsTestClient> };

const startLive = async (t: TestContext, options: Partial<WsHubOptions>): Promise<Live> => {
  let hub: WsHub | null = null;
  t.after(async () => { await hub?.close(); });
  const h = await createTestApp(t);
  const bus = createLiveBus();
  const tokens = createTokenService({ secret: h.deps.secrets.getOrCreate(JWT_SECRET_NAME), ttlS: h.config.auth.jwt_ttl_s, clock: h.clock });
  let dropsCounted = 0;
  hub = createWsHub({
    bus,
    authenticate: wsAuthenticator({ store: h.store, tokens }),
    clock: h.clock,
    logger: h.deps.logger,
    snapshot: () => ({}),
    metrics: { wsDropped: (n) => { dropsCounted += n; } },
    options,
  });
  hub.attach(h.server);
  const token = await h.tokenFor('viewer');
  const connect = async (): Promise<WsTestClient> => {
    const c = await openWs(t, wsUrl(h.baseUrl), bearer(token));
    await c.waitFor((m) => m.type === 'snapshot');
    return c;
  };
  return { bus, hub, dropsCounted: () => dropsCounted, connect };
};

const TOPICS = ['plant/1', 'plant/2', 'plant/3', 'plant/4', 'plant/5'];
/** 8 KiB previews: 4,000 of them (32 MB) are far more than loopback socket buffers hold. */
const PADDING = 'p'.repeat(8 * 1024);
const topicMessage = (i: number): LiveMessage => ({
  type: 'topic_message', topic: TOPICS[i % TOPICS.length]!, qos: 0, retain: false, bytes: PADDING.length,
  preview: `${i}:${PADDING}`, preview_kind: 'text', at: AT,
});
const seqOf = (m: { preview: string }): number => Number(m.preview.slice(0, m.preview.indexOf(':')));

describe('ws hub: slow consumers (DESIGN §7: coalesced updates and a drop counter, never unbounded buffers)', () => {
  it('coalesces a paused client\'s topic messages to the latest per topic, and reports every drop', async (t) => {
    const live = await startLive(t, { highWaterBytes: 64 * 1024, flushMs: 20, dropsReportMs: 100 });
    const c = await live.connect();
    c.ws.pause();
    const N = 4_000;
    for (let i = 0; i < N; i++) live.bus.publish(topicMessage(i));
    c.ws.resume();

    // Every topic's latest message arrives, and then the drop report.
    for (const [k, topic] of TOPICS.entries()) {
      await c.waitFor((m) => m.type === 'topic_message' && m.topic === topic && seqOf(m) === N - TOPICS.length + k, 30_000);
    }
    await c.waitFor((m) => m.type === 'drops', 30_000);
    const received = () => c.messages.filter((m) => m.type === 'topic_message');
    const drops = c.messages.filter((m) => m.type === 'drops');
    const total = drops.at(-1).total;
    assert.equal(received().length + total, N, 'each message was either sent or counted as dropped');
    assert.ok(total > 0, 'the client could not take 32 MB at once: something was coalesced');
    assert.equal(drops.reduce((sum, m) => sum + m.count, 0), total, 'counts are increments of the total');
    assert.equal(live.dropsCounted(), total, 'the metrics saw the same drops');
    // Per topic the messages that did arrive are in publication order.
    for (const topic of TOPICS) {
      const seqs = received().filter((m) => m.topic === topic).map(seqOf);
      assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b));
    }
  });

  it('closes a client with 1013 "too slow" when its non-topic backlog passes the hard cap', async (t) => {
    const live = await startLive(t, { highWaterBytes: 64 * 1024, maxQueued: 20, flushMs: 20 });
    const c = await live.connect();
    const other = await live.connect();
    c.ws.pause();
    // In small bursts, so the other client (same process) reads in between and keeps up.
    for (let i = 0; i < 4_000; i++) {
      live.bus.publish(topicMessage(i));
      if (i % 20 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    for (let i = 0; i < 100; i++) {
      live.bus.publish({ type: 'broker_log', line: `line ${i}`, at: AT });
      if (i % 5 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    assert.equal(live.hub.clientCount(), 1, 'the paused client is dropped at once');
    c.ws.resume();
    const closed = await c.closed();
    assert.deepEqual(closed, { code: 1013, reason: 'too slow' });
    await other.waitFor((m) => m.type === 'broker_log' && m.line === 'line 99');
    assert.equal(live.hub.clientCount(), 1, 'the client that kept up is still connected');
  });
});

describe('ws hub: a burst fans out once per event-loop turn (found by bench/reliability/load.ts)', () => {
  it('sends each client the latest message per topic of a burst, counts the rest as drops, and keeps every other message', async (t) => {
    const live = await startLive(t, { dropsReportMs: 100 });
    const clients = await Promise.all(Array.from({ length: 20 }, () => live.connect()));
    // 20,000 messages in one turn, as the observer's read of a backed-up broker socket delivers
    // them. One at a time that was 400,000 socket writes, and the live lag grew without bound.
    const N = 20_000;
    const small = (i: number): LiveMessage => ({
      type: 'topic_message', topic: TOPICS[i % TOPICS.length]!, qos: 0, retain: false, bytes: 8,
      preview: `${i}:x`, preview_kind: 'text', at: AT,
    });
    for (let i = 0; i < N; i++) {
      live.bus.publish(small(i));
      if (i === N / 2) live.bus.publish({ type: 'broker_log', line: 'half way', at: AT });
    }
    live.bus.publish({ type: 'broker_log', line: 'done', at: AT });
    for (const c of clients) {
      await c.waitFor((m) => m.type === 'drops' && m.total === N - TOPICS.length, 15_000);
      const topicMessages = c.messages.filter((m) => m.type === 'topic_message');
      assert.deepEqual(topicMessages.map(seqOf), TOPICS.map((_, k) => N - TOPICS.length + k), 'the latest of each topic, in publication order');
      // Never coalesced, in order; the topic messages published before 'done' come before it.
      assert.deepEqual(c.messages.filter((m) => m.type === 'broker_log').map((m) => m.line), ['half way', 'done']);
      assert.ok(c.messages.findIndex((m) => m.type === 'broker_log' && m.line === 'done') > c.messages.findIndex((m) => m === topicMessages.at(-1)));
    }
    assert.equal(live.dropsCounted(), clients.length * (N - TOPICS.length), 'the metrics saw every drop');
  });

  it('drops nothing when messages come one turn at a time', async (t) => {
    const live = await startLive(t, { dropsReportMs: 100 });
    const c = await live.connect();
    for (let i = 0; i < 200; i++) {
      live.bus.publish(topicMessage(i));
      await new Promise((resolve) => setImmediate(resolve));
    }
    await c.waitFor((m) => m.type === 'topic_message' && seqOf(m) === 199, 15_000);
    assert.deepEqual(c.messages.filter((m) => m.type === 'topic_message').map(seqOf), Array.from({ length: 200 }, (_, i) => i));
    assert.equal(live.dropsCounted(), 0);
  });
});

describe('ws hub: garbage from a client closes that client only', () => {
  it('closes non-JSON and binary frames with 1003, oversized ones with 1009, and keeps serving the others', async (t) => {
    const live = await startLive(t, { maxPayloadBytes: 64 * 1024 });
    const bystander = await live.connect();
    const notJson = await live.connect();
    const binary = await live.connect();
    const huge = await live.connect();
    notJson.ws.send('{"subscribe": [');
    binary.ws.send(Buffer.from([0xde, 0xad, 0xbe, 0xef]));
    huge.ws.send(JSON.stringify({ subscribe: ['x'.repeat(70 * 1024)] }));
    assert.equal((await notJson.closed()).code, 1003);
    assert.equal((await binary.closed()).code, 1003);
    assert.equal((await huge.closed()).code, 1009);

    live.bus.publish({ type: 'broker_log', line: 'still here', at: AT });
    await bystander.waitFor((m) => m.type === 'broker_log' && m.line === 'still here');
    const late = await live.connect();
    assert.equal(late.messages[0].type, 'snapshot');
    assert.equal(live.hub.clientCount(), 2);
  });
});

describe('ws hub: heartbeats', () => {
  it('terminates a peer that stops answering pings and keeps the one that answers', async (t) => {
    const live = await startLive(t, { heartbeatMs: 300 });
    const dead = await live.connect();
    const alive = await live.connect();
    dead.ws.pause(); // reads nothing, so it never sees the ping nor answers it
    const deadline = Date.now() + 15_000;
    while (live.hub.clientCount() > 1 && Date.now() < deadline) await sleep(50);
    assert.equal(live.hub.clientCount(), 1);
    live.bus.publish({ type: 'broker_log', line: 'alive?', at: AT });
    await alive.waitFor((m) => m.type === 'broker_log' && m.line === 'alive?');
    dead.ws.resume();
    assert.equal((await dead.closed()).code, 1006, 'terminated, no close handshake');
  });
});
