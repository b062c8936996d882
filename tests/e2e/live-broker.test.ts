/**
 * The live side through the whole server (issue "Live broker observability", must show): a real
 * supervised mosquitto, the observer logged in as the service account, the HTTP API and the ws
 * hub. Stats arrive; a client that connects and disconnects shows up and goes away in
 * GET /clients and on the ws; topic messages reach only ws clients whose filter matches; a broker
 * restart takes the status down and back up.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startHttp } from '../../adapters/http/start-http.ts';
import { requireMosquitto } from '../helpers/mosquitto.ts';
import { startTestServer } from '../helpers/mcm-server.ts';
import { connectAs, publish } from '../helpers/mqtt-client.ts';
import { freePort } from '../helpers/ports.ts';
import { bearer, openWs, wsUrl } from '../helpers/ws-client.ts';

const ADMIN = { username: 'live-admin', password: 'correct horse battery staple' };
type Json = Record<string, any>;

const get = async (base: string, path: string, token: string): Promise<Json> => {
  const res = await fetch(`${base}/api/v1${path}`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(res.status, 200, `${path}: ${res.status}`);
  return (await res.json()) as Json;
};

/** Polls `path` until `pred` holds (a generous bound, never a timing assertion). */
const eventually = async (base: string, path: string, token: string, pred: (b: Json) => boolean, what: string): Promise<Json> => {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const body = await get(base, path, token);
    if (pred(body)) return body;
    if (Date.now() > deadline) throw new Error(`${what}: ${JSON.stringify(body).slice(0, 500)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

describe('live broker view through mcm server', () => {
  it('stats, clients, filtered topic messages on the ws, and a broker restart', async (t) => {
    const bin = requireMosquitto(t);
    if (!bin) return;
    const server = await startTestServer(t, bin, {
      config: { http: { port: await freePort() }, auth: { bcrypt_cost: 4 }, bootstrap_admin: { ...ADMIN } },
      testing: { backoff: { initialMs: 100, maxMs: 500 } },
    });
    const http = await startHttp(server.deps);
    t.after(() => http.close());
    const base = http.url;
    const login = await fetch(`${base}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ADMIN) });
    const token = ((await login.json()) as Json).token as string;

    // A device account, applied before anything connects.
    await server.apply({ type: 'CreateMqttUser', data: { username: 'press', passwordHash: await server.hash('press-Pa55word') } });
    const outcome = await server.apply({ type: 'AddAclRule', data: { principal: 'user:press', topic: 'plant/#', access: 'readwrite' } });
    assert.equal(outcome.result, 'applied');

    // Stats: $SYS values arrive as numbers and text (the retained version at least).
    const status = await eventually(base, '/status', token, (b) => b.broker?.up === true && typeof b.broker?.version === 'string', 'broker up with a version');
    assert.match(status.broker.version, /^mosquitto version 2\./);

    const plant = await openWs(t, wsUrl(base), bearer(token));
    const other = await openWs(t, wsUrl(base), bearer(token));
    assert.equal(plant.messages[0]?.type, 'snapshot', 'the snapshot comes first');
    plant.ws.send(JSON.stringify({ subscribe: ['plant/#'] }));
    other.ws.send(JSON.stringify({ subscribe: ['other/#'] }));
    await plant.waitFor((m) => m.type === 'subscriptions');
    await other.waitFor((m) => m.type === 'subscriptions');

    // A client id with spaces and parentheses (the log parser must keep it whole).
    const clientId = 'press 7 (line A)';
    const device = await connectAs(t, server.port, 'press', 'press-Pa55word', { clientId });
    const connected = await plant.waitFor((m) => m.type === 'client_connected' && m.client?.client_id === clientId, 10_000);
    assert.equal(connected.client.username, 'press');
    const listed = await eventually(base, '/clients', token, (b) => b.items.some((c: Json) => c.client_id === clientId), 'the client is listed');
    assert.equal(listed.items.find((c: Json) => c.client_id === clientId).username, 'press');

    assert.equal(await publish(device, 'plant/line-a/temp', '21.5'), 'accepted');
    const msg = await plant.waitFor((m) => m.type === 'topic_message' && m.topic === 'plant/line-a/temp', 10_000);
    assert.equal(msg.preview, '21.5');
    // `other` subscribed to other/#: give the hub ample time, then check it got nothing for plant/.
    await publish(device, 'plant/line-a/temp', '21.6');
    await plant.waitFor((m) => m.type === 'topic_message' && m.preview === '21.6', 10_000);
    assert.equal(other.messages.some((m) => m.type === 'topic_message'), false, 'a non-matching filter gets no topic messages');

    device.end();
    await plant.waitFor((m) => m.type === 'client_disconnected' && m.client_id === clientId, 10_000);
    await eventually(base, '/clients', token, (b) => !b.items.some((c: Json) => c.client_id === clientId), 'the client is gone');

    // Broker restart: SIGKILL the supervised child; the supervisor restarts it.
    const pid = server.deps.supervisor?.pid();
    assert.ok(pid, 'supervised broker pid');
    process.kill(pid, 'SIGKILL');
    await plant.waitFor((m) => m.type === 'broker_status' && m.up === false, 10_000);
    const back = plant.messages.length;
    await plant.waitFor((m) => m.type === 'broker_status' && m.up === true && plant.messages.indexOf(m) >= back, 15_000);
    await eventually(base, '/status', token, (b) => b.broker?.up === true, 'broker up again');
  });
});
