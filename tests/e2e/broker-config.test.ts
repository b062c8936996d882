/**
 * Issue "Broker configuration as events", must show, with real brokers and real TLS: a TLS
 * listener created through the API (CA made by openssl in the test), mTLS with
 * use_identity_as_username mapping the certificate CN to the user's ACL, a websockets listener for
 * mqtt.js, a restart-requiring change previewed, confirmed, applied and probed, and a value the
 * broker refuses at start rolled back to the last good file with the broker running again.
 */
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { connect as tlsConnect } from 'node:tls';
import { chmodSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import mqtt from 'mqtt';
import { startHttp } from '../../adapters/http/start-http.ts';
import { requireMosquitto, startMosquitto } from '../helpers/mosquitto.ts';
import { startTestServer } from '../helpers/mcm-server.ts';
import { delivered, login, publish } from '../helpers/mqtt-client.ts';
import { freePort } from '../helpers/ports.ts';
import { makeCa, makeCert } from '../helpers/pki.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const ADMIN = { username: 'root-admin', password: 'correct horse battery staple' };
type Json = Record<string, unknown>;

const api = async (base: string, method: string, path: string, token?: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; etag: string | null; body: Json }> => {
  const res = await fetch(`${base}/api/v1${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, etag: res.headers.get('etag'), body: text ? (JSON.parse(text) as Json) : {} };
};

/** Polls apply-status until `seq` is applied or failed; a generous bound, not a timing assertion. */
const waitSettled = async (base: string, token: string, seq: number): Promise<Json> => {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const st = (await api(base, 'GET', '/apply-status', token)).body;
    if ((st.applied_seq as number) >= seq || (st.state === 'failed' && ((st.last as Json | null)?.seq as number) >= seq)) return st;
    if (Date.now() > deadline) throw new Error(`apply of seq ${seq} not settled: ${JSON.stringify(st)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

const seqOf = (etag: string | null): number => Number(JSON.parse(etag ?? '"0"'));

const setup = async (t: TestContext, bin: string) => {
  const httpPort = await freePort();
  const server = await startTestServer(t, bin, {
    config: { http: { port: httpPort }, auth: { bcrypt_cost: 4 }, bootstrap_admin: { username: ADMIN.username, password: ADMIN.password } },
  });
  const http = await startHttp(server.deps);
  t.after(() => http.close());
  const token = (await api(http.url, 'POST', '/auth/login', undefined, ADMIN)).body.token as string;
  return { server, base: http.url, token };
};

/** A listener change that restarts the broker: preview, then confirm with its seq. */
const putConfirmed = async (base: string, token: string, path: string, body: unknown): Promise<{ status: number; body: Json; seq: number }> => {
  const preview = await api(base, 'POST', '/broker/config/preview', token, { config: body });
  assert.equal(preview.status, 200, JSON.stringify(preview.body));
  const put = await api(base, 'PUT', path, token, { config: body }, { 'if-match': `"${preview.body.seq as number}"` });
  return { status: put.status, body: put.body, seq: seqOf(put.etag) };
};

const tlsClient = (t: TestContext, port: number, o: mqtt.IClientOptions): Promise<{ ok: boolean; error?: string; client?: mqtt.MqttClient }> =>
  new Promise((resolve) => {
    const c = mqtt.connect({ host: '127.0.0.1', port, protocol: 'mqtts', protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 5000, ...o });
    t.after(() => { c.end(true); });
    c.once('connect', () => resolve({ ok: true, client: c }));
    c.once('error', (e) => { c.end(true); resolve({ ok: false, error: e.message }); });
  });

describe('broker configuration through the API, enforced by a real broker', () => {
  it('TLS, mTLS with the CN as username, websockets; preview → confirm → restart → probed; a refused value rolls back', async (t) => {
    const bin = requireMosquitto(t);
    if (!bin) return;
    const { server, base, token } = await setup(t, bin);
    const pki = tempDir(t, 'mcm-pki-');
    const ca = makeCa(pki, 'Plant CA');
    const serverCert = makeCert(pki, { ca, cn: 'localhost' });
    const device = makeCert(pki, { ca, cn: 'sensor-1', client: true });

    assert.equal((await api(base, 'POST', '/certificates', token, { name: 'plant-ca', cert: ca.certPem })).status, 201);
    const added = await api(base, 'POST', '/certificates', token, { name: 'broker', cert: serverCert.certPem, key: serverCert.keyPem, ca: 'plant-ca' });
    assert.equal(added.status, 201, JSON.stringify(added.body));
    assert.ok(!JSON.stringify(added.body).includes('PRIVATE KEY'), 'the key never comes back');

    // MQTT users and rules: alice over TLS, sensor-1 by its certificate's CN.
    for (const u of [{ username: 'alice', password: 'alice-Pa55word' }, { username: 'sensor-1', password: 'unused-Pa55word-1' }]) {
      assert.equal((await api(base, 'POST', '/mqtt-users', token, u)).status, 201);
    }
    await api(base, 'POST', '/acls', token, { principal: 'user:alice', topic: 'plant/#', access: 'readwrite' });
    await api(base, 'POST', '/acls', token, { principal: 'user:sensor-1', topic: 'sensors/sensor-1/#', access: 'write' });

    const [tlsPort, mtlsPort, wsPort] = [await freePort(), await freePort(), await freePort()];
    const config = {
      listeners: [
        { name: 'tls', port: tlsPort, protocol: 'mqtt', address: '127.0.0.1', tls: { certificate: 'broker', ca: 'plant-ca', minVersion: 'tlsv1.2' } },
        { name: 'mtls', port: mtlsPort, protocol: 'mqtt', address: '127.0.0.1', tls: { certificate: 'broker', ca: 'plant-ca', minVersion: 'tlsv1.2', requireCertificate: true, useIdentityAsUsername: true } },
        { name: 'ws', port: wsPort, protocol: 'websockets', bindInterface: 'lo' },
      ],
      options: { max_inflight_messages: 40, message_size_limit: 1048576 },
    };

    // Without confirmation a restart is refused, with what it would do.
    const unconfirmed = await api(base, 'PUT', '/broker/config', token, { config });
    assert.equal(unconfirmed.status, 428, JSON.stringify(unconfirmed.body));
    assert.equal((unconfirmed.body.error as Json | undefined)?.code ?? unconfirmed.body.code, 'MCM_ERR_RESTART_NOT_CONFIRMED', JSON.stringify(unconfirmed.body));
    const preview = await api(base, 'POST', '/broker/config/preview', token, { config });
    assert.equal(preview.body.restart_needed, true);
    assert.match(preview.body.diff as string, new RegExp(`^\\+listener ${tlsPort} 127\\.0\\.0\\.1$`, 'm'));
    assert.match(preview.body.diff as string, /^\+require_certificate true$/m);
    assert.ok((preview.body.changes as Json[]).some((c) => c.what === 'listener tls' && c.apply === 'restart'));
    const pidBefore = server.deps.supervisor?.pid();

    const put = await putConfirmed(base, token, '/broker/config', config);
    assert.equal(put.status, 200, JSON.stringify(put.body));
    const st = await waitSettled(base, token, put.seq);
    assert.equal(st.state, 'applied', JSON.stringify(st));
    assert.notEqual(server.deps.supervisor?.pid(), pidBefore, 'a listener change restarts the broker (reference §3.2)');

    // TLS: with the CA it connects (mosquitto_pub --cafile), without it the handshake is refused.
    const pub = await promisify(execFile)('mosquitto_pub', ['-h', 'localhost', '-p', String(tlsPort), '--cafile', ca.cert, '-u', 'alice', '-P', 'alice-Pa55word', '-t', 'plant/a', '-m', 'x', '-q', '1'])
      .then(() => 'ok', (e: Error) => e.message);
    assert.equal(pub, 'ok');
    const noCa = await tlsClient(t, tlsPort, { username: 'alice', password: 'alice-Pa55word', servername: 'localhost' });
    assert.equal(noCa.ok, false, 'a client that does not trust the CA is refused');
    const withCa = await tlsClient(t, tlsPort, { username: 'alice', password: 'alice-Pa55word', ca: ca.certPem, servername: 'localhost' });
    assert.equal(withCa.ok, true, withCa.error);

    // mTLS: no certificate → refused; the device certificate → its CN is the username for the ACL.
    const noCert = await tlsClient(t, mtlsPort, { ca: ca.certPem, servername: 'localhost' });
    assert.equal(noCert.ok, false);
    const dev = await tlsClient(t, mtlsPort, { ca: ca.certPem, cert: device.certPem, key: device.keyPem, servername: 'localhost' });
    assert.equal(dev.ok, true, dev.error);
    assert.equal(await publish(dev.client!, 'sensors/sensor-1/temp', '21'), 'accepted', 'sensor-1 (the CN) may write its own topic');
    assert.equal(await publish(dev.client!, 'sensors/sensor-2/temp', '21'), 'denied', 'and nothing else');

    // Websockets: mqtt.js over ws://.
    const ws = await new Promise<boolean>((resolve) => {
      const c = mqtt.connect(`ws://127.0.0.1:${wsPort}/mqtt`, { username: 'alice', password: 'alice-Pa55word', protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 5000 });
      t.after(() => { c.end(true); });
      c.once('connect', () => resolve(true));
      c.once('error', () => resolve(false));
    });
    assert.equal(ws, true);
    const sub = await tlsClient(t, tlsPort, { username: 'alice', password: 'alice-Pa55word', ca: ca.certPem, servername: 'localhost' });
    assert.ok(sub.client);
    await sub.client!.subscribeAsync('plant/#', { qos: 1 });
    const plain = await login(t, server.port, 'alice', 'alice-Pa55word');
    assert.ok(plain.ok);
    if (plain.ok) assert.equal(await delivered(plain.client, sub.client!, 'plant/b', 3000), true, 'one broker behind all listeners');

    // The private key the broker reads is never world-readable.
    const keyMode = statSync(join(server.dataDir, 'mosquitto', 'tls', 'broker.key')).mode & 0o777;
    assert.equal(keyMode & 0o007, 0, `key mode ${keyMode.toString(8)}`);

    // Rotation: the same certificate name with a new PEM is a reload (the broker re-reads its TLS
    // files on SIGHUP, reference §3.1), and the listener then presents the new certificate.
    const pidBeforeRotation = server.deps.supervisor?.pid();
    const renewed = makeCert(pki, { ca, cn: 'localhost' });
    const rotated = await api(base, 'POST', '/certificates', token, { name: 'broker', cert: renewed.certPem, key: renewed.keyPem, ca: 'plant-ca', replace: true });
    assert.equal(rotated.status, 201, JSON.stringify(rotated.body));
    const stRot = await waitSettled(base, token, seqOf(rotated.etag));
    assert.equal(stRot.state, 'applied', JSON.stringify(stRot));
    assert.equal(server.deps.supervisor?.pid(), pidBeforeRotation, 'a certificate rotation is a reload, not a restart');
    const presented = await new Promise<string>((resolve, reject) => {
      const s = tlsConnect({ host: '127.0.0.1', port: tlsPort, servername: 'localhost', ca: ca.certPem }, () => { resolve(s.getPeerCertificate().fingerprint256); s.destroy(); });
      s.once('error', reject);
    });
    assert.equal(presented, new X509Certificate(renewed.certPem).fingerprint256, 'the renewed certificate is served');

    // A value the broker refuses at start (an unknown directive in passthrough): rolled back.
    const bad = { ...config, passthrough: ['bogus_directive_for_test 1'] };
    const badPut = await putConfirmed(base, token, '/broker/config', bad);
    assert.equal(badPut.status, 200, JSON.stringify(badPut.body));
    const failed = await waitSettled(base, token, badPut.seq);
    assert.equal(failed.state, 'failed', JSON.stringify(failed));
    assert.match(JSON.stringify(failed.last), /did not start on the new mosquitto\.conf/);
    assert.equal(server.deps.supervisor?.isUp(), true, 'the broker runs again, on the last good file');
    const conf = readFileSync(join(server.dataDir, 'mosquitto', 'mosquitto.conf'), 'utf8');
    assert.ok(!conf.includes('bogus_directive_for_test'), 'the last good mosquitto.conf is back');
    const again = await tlsClient(t, tlsPort, { username: 'alice', password: 'alice-Pa55word', ca: ca.certPem, servername: 'localhost' });
    assert.equal(again.ok, true, 'the TLS listener answers again');

    // Without TLS listeners the broker's copies of the key and certificates are gone, and the
    // certificates can be removed.
    const plainOnly = await putConfirmed(base, token, '/broker/config', { listeners: [] });
    assert.equal(plainOnly.status, 200, JSON.stringify(plainOnly.body));
    assert.equal((await waitSettled(base, token, plainOnly.seq)).state, 'applied');
    assert.deepEqual(readdirSync(join(server.dataDir, 'mosquitto', 'tls')), [], 'no unused key stays readable by the broker');
    assert.equal((await api(base, 'DELETE', '/certificates/broker', token)).status, 204);
  });

  it('a bridge to a second real broker carries messages both ways exactly as its topic lines say; its password stays a secret', async (t) => {
    const bin = requireMosquitto(t);
    if (!bin) return;
    const { server, base, token } = await setup(t, bin);
    const remoteDir = tempDir(t, 'mcm-remote-');
    const pw = join(remoteDir, 'passwd');
    writeFileSync(pw, '');
    await promisify(execFile)('mosquitto_passwd', ['-b', pw, 'edge-bridge', 'Bridge-Secret-42']);
    await promisify(execFile)('mosquitto_passwd', ['-b', pw, 'cloud', 'cloud-Pa55word']);
    chmodSync(pw, 0o644);
    const remote = await startMosquitto(t, bin, { dir: remoteDir, lines: ['allow_anonymous false', `password_file ${pw}`] });

    assert.equal((await api(base, 'POST', '/mqtt-users', token, { username: 'plc', password: 'plc-Pa55word' })).status, 201);
    await api(base, 'POST', '/acls', token, { principal: 'user:plc', topic: 'site/#', access: 'readwrite' });
    await api(base, 'POST', '/acls', token, { principal: 'user:plc', topic: 'cmd/#', access: 'readwrite' });
    await api(base, 'POST', '/acls', token, { principal: 'user:plc', topic: 'local/#', access: 'readwrite' });

    const bridge = {
      addresses: [{ host: '127.0.0.1', port: remote.port }],
      remoteUsername: 'edge-bridge', remotePassword: 'Bridge-Secret-42', remoteClientId: 'edge-1',
      topics: [
        { pattern: '#', direction: 'out', qos: 1, localPrefix: 'site/', remotePrefix: 'plants/edge-1/' },
        { pattern: 'cmd/#', direction: 'in', qos: 1 },
      ],
      cleansession: true, keepalive: 30,
    };
    const preview = await api(base, 'POST', '/broker/config/preview', token, { config: { listeners: [], bridges: [{ name: 'cloud', ...bridge }] } });
    assert.equal(preview.status, 200, JSON.stringify(preview.body));
    assert.ok(!JSON.stringify(preview.body).includes('Bridge-Secret-42'), 'the preview never shows the password');
    assert.match(preview.body.diff as string, /^\+remote_password \*{8}$/m);
    const put = await api(base, 'PUT', '/broker/bridges/cloud', token, bridge, { 'if-match': `"${preview.body.seq as number}"` });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    const st = await waitSettled(base, token, seqOf(put.etag));
    assert.equal(st.state, 'applied', JSON.stringify(st));
    await remote.waitForLog(/New bridge connected .* as edge-1/, 10_000);

    const local = await login(t, server.port, 'plc', 'plc-Pa55word');
    const cloud = await login(t, remote.port, 'cloud', 'cloud-Pa55word');
    assert.ok(local.ok && cloud.ok);
    if (!local.ok || !cloud.ok) return;
    await cloud.client.subscribeAsync('#', { qos: 1 });
    await local.client.subscribeAsync('#', { qos: 1 });
    // out: site/# leaves as plants/edge-1/#; local/# is not bridged.
    assert.equal(await receivesPrefixed(local.client, cloud.client), true, 'site/line1/temp arrives as plants/edge-1/line1/temp');
    assert.equal(await delivered(local.client, cloud.client, 'local/x', 1000), false, 'local/# is not bridged');
    // in: cmd/# comes in unchanged; other remote topics do not.
    assert.equal(await delivered(cloud.client, local.client, 'cmd/line1/stop', 3000), true, 'cmd/# is bridged in');
    assert.equal(await delivered(cloud.client, local.client, 'elsewhere/x', 1000), false, 'nothing else comes in');

    // The password: on disk for the broker, never in the API or the event log.
    const conf = readFileSync(join(server.dataDir, 'mosquitto', 'mosquitto.conf'), 'utf8');
    assert.match(conf, /^remote_password Bridge-Secret-42$/m);
    assert.equal(statSync(join(server.dataDir, 'mosquitto', 'mosquitto.conf')).mode & 0o007, 0, 'mosquitto.conf holds a secret: not world-readable');
    const shown = await api(base, 'GET', '/broker/config', token);
    assert.ok(!JSON.stringify(shown.body).includes('Bridge-Secret-42'));
    const events = await api(base, 'GET', '/events?limit=1000', token);
    assert.ok(!JSON.stringify(events.body).includes('Bridge-Secret-42'), 'no plaintext password in events');
  });
});

describe('a listener that does not answer after the restart', () => {
  it('is rolled back: the last good mosquitto.conf and a restart, the apply failed with the listener named', async (t) => {
    const bin = requireMosquitto(t);
    if (!bin) return;
    const { server, base, token } = await setup(t, bin);
    const port = await freePort();
    // socket_domain ipv6 (passed through verbatim) makes the listener IPv6-only: the broker starts,
    // but nothing answers on 127.0.0.1 — exactly what the listener probe is there to catch.
    const config = { listeners: [{ name: 'v6only', port, protocol: 'mqtt' }], passthrough: ['socket_domain ipv6'] };
    const put = await putConfirmed(base, token, '/broker/config', config);
    assert.equal(put.status, 200, JSON.stringify(put.body));
    const st = await waitSettled(base, token, put.seq);
    assert.equal(st.state, 'failed', JSON.stringify(st));
    assert.match(JSON.stringify(st.last), /listener check failed: v6only/);
    assert.equal(server.deps.supervisor?.isUp(), true);
    const conf = readFileSync(join(server.dataDir, 'mosquitto', 'mosquitto.conf'), 'utf8');
    assert.doesNotMatch(conf, /v6only|socket_domain/, 'the last good file is back');
    const security = await api(base, 'GET', '/security/events?limit=50', token);
    assert.match(JSON.stringify(security.body), /apply\.failed/);
  });
});

/** site/line1/temp published locally arrives remotely as plants/edge-1/line1/temp (the prefixes). */
const receivesPrefixed = async (pub: mqtt.MqttClient, sub: mqtt.MqttClient): Promise<boolean> => {
  const payload = `p-${Date.now()}`;
  const seen = new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 3000);
    sub.on('message', (topic, p) => { if (topic === 'plants/edge-1/line1/temp' && p.toString() === payload) { clearTimeout(timer); resolve(true); } });
  });
  await pub.publishAsync('site/line1/temp', payload, { qos: 1 });
  return seen;
};
