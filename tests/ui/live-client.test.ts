/**
 * ui/data/live-client.ts against the real ws hub (the `ws` package stands in for the browser's
 * WebSocket; both have onopen/onmessage/onclose): snapshot first, topic narrowing kept across a
 * reconnect, onResume with the last event seq, and 4401 ending the session without retries.
 */
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { describe, it } from 'node:test';
import WebSocket from 'ws';
import { JWT_SECRET_NAME } from '../../adapters/http/auth/services.ts';
import { createTokenService } from '../../adapters/http/auth/jwt.ts';
import { createLiveBus, type LiveBus } from '../../adapters/live/live-bus.ts';
import { publishEventAppended } from '../../adapters/ws/event-appended.ts';
import { createWsHub, type WsHub } from '../../adapters/ws/hub.ts';
import { wsAuthenticator } from '../../adapters/ws/ws-auth.ts';
import { backoffDelay, createLiveClient, liveUrl, type LiveClient, type LiveMessage } from '../../ui/data/live-client.ts';
import { createTestApp, type TestApp } from '../helpers/http.ts';

const AT = '2026-01-01T00:00:00.000Z';

const startLive = async (t: TestContext): Promise<{ h: TestApp; bus: LiveBus; hub: () => WsHub; restartHub(): void }> => {
  let hub: WsHub | null = null;
  let detach: (() => void) | null = null;
  t.after(async () => { await hub?.close(); });
  const h = await createTestApp(t);
  const bus = createLiveBus();
  const tokens = createTokenService({ secret: h.deps.secrets.getOrCreate(JWT_SECRET_NAME), ttlS: h.config.auth.jwt_ttl_s, clock: h.clock });
  const make = () => {
    hub = createWsHub({ bus, authenticate: wsAuthenticator({ store: h.store, tokens }), clock: h.clock, logger: h.deps.logger, snapshot: () => ({ status: { up: true } }) });
    detach = hub.attach(h.server);
  };
  make();
  t.after(publishEventAppended({ store: h.store, bus }));
  return {
    h, bus, hub: () => hub!,
    restartHub: () => { detach?.(); void hub?.close(); make(); },
  };
};

/** Resolves with the first message of `type` that `pred` accepts. */
const next = (live: LiveClient, type: string, pred: (m: LiveMessage) => boolean = () => true, ms = 5000): Promise<LiveMessage> =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(() => { off(); reject(new Error(`no ${type} within ${ms} ms`)); }, ms);
    const off = live.on(type, (m) => { if (pred(m)) { clearTimeout(timer); off(); resolve(m); } });
  });

const client = (h: TestApp, token: () => string | null, extra: Partial<Parameters<typeof createLiveClient>[0]> = {}) =>
  createLiveClient({ url: liveUrl(h.baseUrl), token, WebSocket: WebSocket as never, minDelayMs: 20, maxDelayMs: 100, ...extra });

const topicMessage = (topic: string): Parameters<LiveBus['publish']>[0] =>
  ({ type: 'topic_message', topic, qos: 0, retain: false, bytes: 1, preview: 'x', preview_kind: 'text', at: AT });

describe('ui/data live-client', () => {
  it('connects with the bearer subprotocol and gets the snapshot first', async (t) => {
    const { h } = await startLive(t);
    const token = await h.tokenFor('viewer');
    const live = client(h, () => token);
    t.after(() => live.stop());
    const snap = next(live, 'snapshot');
    live.start();
    assert.deepEqual((await snap)['status'], { up: true });
    assert.equal(live.state(), 'open');
  });

  it('narrows topic messages to its filters, and keeps them after a reconnect; onResume gets the last event seq', async (t) => {
    const { h, bus, restartHub } = await startLive(t);
    const token = await h.tokenFor('auditor');
    const live = client(h, () => token);
    t.after(() => live.stop());
    const seen: string[] = [];
    live.on('topic_message', (m) => seen.push(m['topic'] as string));
    const resumed: (number | null)[] = [];
    live.onResume((seq) => resumed.push(seq));
    const open = next(live, 'snapshot');
    live.start();
    await open;
    const subscribed = next(live, 'subscriptions');
    live.setTopicFilters(['plant/#']);
    assert.deepEqual((await subscribed)['filters'], ['plant/#']);
    const appended = next(live, 'event_appended');
    await h.request('POST', '/api/v1/mqtt-users', { token: await h.tokenFor('operator'), body: { username: 'u1' } });
    const seq = (await appended)['seq'] as number;
    bus.publish(topicMessage('office/a'));
    bus.publish(topicMessage('plant/a'));
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(seen, ['plant/a']);

    // The server goes away and comes back: the client reconnects, re-sends its filters, resumes.
    const again = next(live, 'subscriptions', (m) => (m['filters'] as string[]).includes('plant/#'));
    restartHub();
    await again;
    assert.deepEqual(resumed, [seq]);
    bus.publish(topicMessage('office/b'));
    bus.publish(topicMessage('plant/b'));
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(seen, ['plant/a', 'plant/b']);

    // Back to every topic.
    const widened = next(live, 'subscriptions', (m) => (m['filters'] as string[]).includes('#'));
    live.setTopicFilters(null);
    await widened;
    bus.publish(topicMessage('office/c'));
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(seen, ['plant/a', 'plant/b', 'office/c']);
  });

  it('a revoked token closes with 4401: the session ends and the client does not retry', async (t) => {
    const { h } = await startLive(t);
    const token = await h.tokenFor('viewer');
    let ended = 0;
    const live = client(h, () => token, { onUnauthorized: () => { ended += 1; } });
    t.after(() => live.stop());
    const open = next(live, 'snapshot');
    live.start();
    await open;
    const res = await h.request('PUT', '/api/v1/admin-users/test-viewer', { token: await h.tokenFor('admin'), body: { disabled: true } });
    assert.equal(res.status, 200);
    const deadline = Date.now() + 5000;
    while (ended === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(ended, 1);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(live.state(), 'closed');
    assert.equal(ended, 1, 'no reconnect loop');
  });

  it('backs off exponentially with jitter up to the cap', () => {
    assert.equal(backoffDelay(0, () => 0), 250);
    assert.equal(backoffDelay(0, () => 1), 500);
    assert.equal(backoffDelay(3, () => 1), 4000);
    assert.equal(backoffDelay(20, () => 1), 15_000);
    assert.equal(backoffDelay(20, () => 0), 7500);
  });
});
