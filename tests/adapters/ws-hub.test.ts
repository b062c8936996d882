/**
 * The live channel /api/v1/broker/events (DESIGN §7): token checked before the upgrade, snapshot
 * first, role-filtered messages, topic narrowing, revocation and expiry close the socket.
 * Messages come from the LiveBus (the real-broker path is covered by the observer's tests).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { connect } from 'node:net';
import type { TestContext } from 'node:test';
import { describe, it } from 'node:test';
import { handleCommand } from '../../core/handle-command.ts';
import { JWT_SECRET_NAME } from '../../adapters/http/auth/services.ts';
import { createTokenService } from '../../adapters/http/auth/jwt.ts';
import { createLiveBus, type LiveBus, type LiveMessage } from '../../adapters/live/live-bus.ts';
import { publishEventAppended } from '../../adapters/ws/event-appended.ts';
import { CLOSE_GRACE_MS, createWsHub, type WsHub, type WsHubOptions } from '../../adapters/ws/hub.ts';
import { wsAuthenticator } from '../../adapters/ws/ws-auth.ts';
import { HASH_A } from '../helpers/decider-spec.ts';
import { createTestApp, ROLE_USERS, type TestApp } from '../helpers/http.ts';
import { bearer, openWs, refusedUpgrade, wsUrl } from '../helpers/ws-client.ts';

const AT = '2026-01-01T00:00:00.000Z';
const SNAPSHOT = { status: { up: true }, stats: { 'broker/clients/connected': 3 }, clients: [{ client_id: 'dev 1' }] };

type Live = { h: TestApp; bus: LiveBus; hub: WsHub; url: string };

/** A test app with a hub on its server and event_appended wired from the store. */
const startLive = async (t: TestContext, options: Partial<WsHubOptions> = {}): Promise<Live> => {
  let hub: WsHub | null = null;
  // Registered first so it runs first: the HTTP server only finishes closing once the sockets are gone.
  t.after(async () => { await hub?.close(); });
  const h = await createTestApp(t);
  const bus = createLiveBus();
  const tokens = createTokenService({ secret: h.deps.secrets.getOrCreate(JWT_SECRET_NAME), ttlS: h.config.auth.jwt_ttl_s, clock: h.clock });
  hub = createWsHub({
    bus,
    authenticate: wsAuthenticator({ store: h.store, tokens }),
    clock: h.clock,
    logger: h.deps.logger,
    snapshot: () => SNAPSHOT,
    securityLog: h.deps.securityLog,
    options,
  });
  hub.attach(h.server);
  t.after(publishEventAppended({ store: h.store, bus }));
  return { h, bus, hub, url: wsUrl(h.baseUrl) };
};

const log = (line: string): LiveMessage => ({ type: 'broker_log', line, at: AT });
const topicMessage = (topic: string, preview = 'x'): LiveMessage =>
  ({ type: 'topic_message', topic, qos: 0, retain: false, bytes: preview.length, preview, preview_kind: 'text', at: AT });

describe('ws hub: authentication before the upgrade (DESIGN §7, §9)', () => {
  it('refuses a client without a token with HTTP 401 and no upgrade', async (t) => {
    const { url } = await startLive(t);
    const res = await refusedUpgrade(url, ['mcm.v1']);
    assert.equal(res.status, 401);
    assert.equal(res.body.error.code, 'MCM_ERR_UNAUTHENTICATED');
    assert.match(String(res.headers['www-authenticate']), /^Bearer/);
  });

  it('refuses a bad token with HTTP 401 and records a security event', async (t) => {
    const { url, h } = await startLive(t);
    const before = h.deps.securityLog.occurrences({ category: 'auth.token_invalid' });
    const res = await refusedUpgrade(url, bearer('not.a.jwt'));
    assert.equal(res.status, 401);
    assert.equal(res.body.error.code, 'MCM_ERR_UNAUTHENTICATED');
    assert.equal(h.deps.securityLog.occurrences({ category: 'auth.token_invalid' }), before + 1);
  });

  it('refuses an expired token with HTTP 401', async (t) => {
    const { url, h } = await startLive(t);
    const token = await h.tokenFor('admin');
    h.clock.advance(h.config.auth.jwt_ttl_s + 1);
    const res = await refusedUpgrade(url, bearer(token));
    assert.equal(res.status, 401);
    assert.match(res.body.error.message, /expired/);
  });

  it('refuses a revoked token (user disabled) with HTTP 401', async (t) => {
    const { url, h } = await startLive(t);
    const token = await h.tokenFor('viewer');
    handleCommand(h.deps, { type: 'UpdateAdminUser', data: { username: ROLE_USERS.viewer, disabled: true } }, { actor: { kind: 'system', id: 'test' } });
    const res = await refusedUpgrade(url, bearer(token));
    assert.equal(res.status, 401);
    assert.match(res.body.error.message, /revoked/);
  });

  it('answers another path with 404 and a valid token without the mcm.v1 subprotocol with 400', async (t) => {
    const { url, h } = await startLive(t);
    const token = await h.tokenFor('viewer');
    assert.equal((await refusedUpgrade(wsUrl(h.baseUrl, '/api/v1/other'), bearer(token))).status, 404);
    assert.equal((await refusedUpgrade(url, [`bearer.${token}`])).status, 400);
  });

  it('accepts a viewer with the mcm.v1 subprotocol and sends the snapshot first', async (t) => {
    const { url, h, bus, hub } = await startLive(t);
    const c = await openWs(t, url, bearer(await h.tokenFor('viewer')));
    assert.equal(c.ws.protocol, 'mcm.v1');
    bus.publish(log('after connect'));
    await c.waitFor((m) => m.type === 'broker_log');
    assert.equal(c.messages[0].type, 'snapshot');
    assert.deepEqual({ status: c.messages[0].status, stats: c.messages[0].stats, clients: c.messages[0].clients }, SNAPSHOT);
    assert.equal(hub.clientCount(), 1);
  });
});

describe('ws hub: what each role receives (DESIGN §7: what a role may not read over REST it does not get over ws)', () => {
  it('sends event_appended with stream, type and actor but no data to an auditor, only seq and time to a viewer', async (t) => {
    const { url, h } = await startLive(t);
    const auditor = await openWs(t, url, bearer(await h.tokenFor('auditor')));
    const viewer = await openWs(t, url, bearer(await h.tokenFor('viewer')));
    await auditor.waitFor((m) => m.type === 'snapshot');
    await viewer.waitFor((m) => m.type === 'snapshot');
    handleCommand(h.deps, { type: 'CreateMqttUser', data: { username: 'sensor-7', passwordHash: HASH_A } }, {
      actor: { kind: 'admin', id: 'test-admin' },
    });
    const full = await auditor.waitFor((m) => m.type === 'event_appended' && m.stream === 'mqtt-user:sensor-7');
    assert.equal(full.event_type, 'MqttUserCreated');
    assert.deepEqual(full.actor, { kind: 'admin', id: 'test-admin' });
    assert.equal(full.data, undefined, 'no payload, not even the hash');
    assert.ok(!JSON.stringify(full).includes('$7$'));
    const redacted = await viewer.waitFor((m) => m.type === 'event_appended' && m.seq === full.seq);
    assert.deepEqual(Object.keys(redacted).sort(), ['at', 'seq', 'type']);
  });

  it('sends security events to auditors and above, never to a viewer', async (t) => {
    const { url, h, bus } = await startLive(t);
    const auditor = await openWs(t, url, bearer(await h.tokenFor('auditor')));
    const viewer = await openWs(t, url, bearer(await h.tokenFor('viewer')));
    await viewer.waitFor((m) => m.type === 'snapshot');
    bus.publish({ type: 'security_event', category: 'auth.login_failed', severity: 'warning', message: 'login failed', at: AT });
    bus.publish(log('sentinel'));
    await auditor.waitFor((m) => m.type === 'security_event' && m.category === 'auth.login_failed');
    // Messages arrive in order: once the sentinel is in, the security event would have been too.
    await viewer.waitFor((m) => m.type === 'broker_log' && m.line === 'sentinel');
    assert.equal(viewer.messages.filter((m) => m.type === 'security_event').length, 0);
  });
});

describe('ws hub: narrowing topic messages with {"subscribe": [...]} (DESIGN §7)', () => {
  it('sends a subscribed viewer only the topics matching its filters; an unsubscribed client gets all', async (t) => {
    const { url, h, bus } = await startLive(t);
    const token = await h.tokenFor('viewer');
    const plant = await openWs(t, url, bearer(token));
    const other = await openWs(t, url, bearer(token));
    const all = await openWs(t, url, bearer(token));
    plant.ws.send(JSON.stringify({ subscribe: ['plant/#'] }));
    other.ws.send(JSON.stringify({ subscribe: ['other/+'] }));
    assert.deepEqual((await plant.waitFor((m) => m.type === 'subscriptions')).filters, ['plant/#']);
    assert.deepEqual((await other.waitFor((m) => m.type === 'subscriptions')).filters, ['other/+']);
    await all.waitFor((m) => m.type === 'snapshot');

    for (const topic of ['plant/line1/temp', 'other/x', 'plant', 'other/x/y', '$SYS/broker/uptime']) bus.publish(topicMessage(topic));
    bus.publish(log('sentinel'));
    const topicsOf = async (c: typeof plant): Promise<string[]> => {
      await c.waitFor((m) => m.type === 'broker_log' && m.line === 'sentinel');
      return c.messages.filter((m) => m.type === 'topic_message').map((m) => m.topic);
    };
    // 'plant/#' also matches its parent 'plant' [MQTT-4.7.1-2]; '+' is exactly one level.
    assert.deepEqual(await topicsOf(plant), ['plant/line1/temp', 'plant']);
    assert.deepEqual(await topicsOf(other), ['other/x']);
    assert.deepEqual(await topicsOf(all), ['plant/line1/temp', 'other/x', 'plant', 'other/x/y', '$SYS/broker/uptime']);
  });

  it('answers an invalid filter with MCM_ERR_TOPIC_FILTER_INVALID and keeps the subscriptions as they were', async (t) => {
    const { url, h, bus } = await startLive(t);
    const c = await openWs(t, url, bearer(await h.tokenFor('viewer')));
    c.ws.send(JSON.stringify({ subscribe: ['ok/#', 'bad/#/more'] }));
    const err = await c.waitFor((m) => m.type === 'error');
    assert.equal(err.code, 'MCM_ERR_TOPIC_FILTER_INVALID');
    assert.equal(err.details[0].filter, 'bad/#/more');
    c.ws.send(JSON.stringify({ hello: 1 }));
    assert.equal((await c.waitFor((m) => m.type === 'error' && m.code === 'MCM_ERR_WS_MESSAGE_INVALID')).code, 'MCM_ERR_WS_MESSAGE_INVALID');
    bus.publish(topicMessage('anything/at/all'));
    await c.waitFor((m) => m.type === 'topic_message' && m.topic === 'anything/at/all');
  });

  it('stops sending a topic after {"unsubscribe": [...]}', async (t) => {
    const { url, h, bus } = await startLive(t);
    const c = await openWs(t, url, bearer(await h.tokenFor('viewer')));
    c.ws.send(JSON.stringify({ subscribe: ['a/#', 'b/#'] }));
    await c.waitFor((m) => m.type === 'subscriptions');
    c.ws.send(JSON.stringify({ unsubscribe: ['a/#'] }));
    await c.waitFor((m) => m.type === 'subscriptions' && m.filters.length === 1);
    bus.publish(topicMessage('a/1'));
    bus.publish(topicMessage('b/1'));
    bus.publish(log('sentinel'));
    await c.waitFor((m) => m.type === 'broker_log');
    assert.deepEqual(c.messages.filter((m) => m.type === 'topic_message').map((m) => m.topic), ['b/1']);
  });
});

describe('ws hub: a token that stops being valid closes the socket (DESIGN §9)', () => {
  it('closes with 4401 as soon as the signed-in admin is disabled', async (t) => {
    const { url, h, hub } = await startLive(t);
    const c = await openWs(t, url, bearer(await h.tokenFor('viewer')));
    await c.waitFor((m) => m.type === 'snapshot');
    handleCommand(h.deps, { type: 'UpdateAdminUser', data: { username: ROLE_USERS.viewer, disabled: true } }, { actor: { kind: 'system', id: 'test' } });
    const closed = await c.closed();
    assert.equal(closed.code, 4401);
    assert.match(closed.reason, /revoked/);
    assert.equal(hub.clientCount(), 0);
  });

  it('closes with 4401 "token expired" at the periodic re-check once the token has expired', async (t) => {
    const { url, h } = await startLive(t, { recheckMs: 50 });
    const c = await openWs(t, url, bearer(await h.tokenFor('operator')));
    await c.waitFor((m) => m.type === 'snapshot');
    h.clock.advance(h.config.auth.jwt_ttl_s + 1);
    const closed = await c.closed();
    assert.deepEqual(closed, { code: 4401, reason: 'token expired' });
  });
});

describe('ws hub: a client that sends garbage and ignores the close', () => {
  it('closes it with 1003 and cuts the socket after CLOSE_GRACE_MS, not ws\'s 30 s closeTimeout', async (t) => {
    // Found by bench/reliability/hostile-ws.ts: such a peer kept its socket for 30 s (ws closeTimeout).
    const { h } = await startLive(t);
    const token = await h.tokenFor('viewer');
    const socket = connect({ host: '127.0.0.1', port: Number(new URL(h.baseUrl).port) });
    t.after(() => socket.destroy());
    let received = Buffer.alloc(0);
    socket.on('data', (b: Buffer) => { received = Buffer.concat([received, b]); });
    await once(socket, 'connect');
    socket.write([
      'GET /api/v1/broker/events HTTP/1.1', 'Host: 127.0.0.1', 'Upgrade: websocket', 'Connection: Upgrade',
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`, 'Sec-WebSocket-Version: 13',
      `Sec-WebSocket-Protocol: mcm.v1, bearer.${token}`, '', '',
    ].join('\r\n'));
    while (!received.includes('\r\n\r\n')) await new Promise((r) => setTimeout(r, 10));
    assert.match(received.toString('latin1'), /^HTTP\/1\.1 101 /);
    // A masked binary frame (mask key 0, one byte): refused, and the close frame is never answered.
    const started = Date.now();
    const closed = once(socket, 'close');
    socket.write(Buffer.from([0x82, 0x81, 0, 0, 0, 0, 0x01]));
    const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error('the socket was still open after 10 s')), 10_000).unref());
    await Promise.race([closed, timeout]);
    const ms = Date.now() - started;
    assert.ok(received.includes(Buffer.from([0x88])) && received.includes(Buffer.from([0x03, 0xeb])), 'a close frame with 1003 came first');
    assert.ok(ms >= CLOSE_GRACE_MS - 100 && ms < CLOSE_GRACE_MS + 2000, `cut off after ${ms} ms`);
  });
});
