/**
 * Issue "Broker configuration as events", must show: importing a hand-made mosquitto.conf with a
 * TLS listener and a bridge, then letting MCM render it for its supervised broker, gives a broker
 * that behaves the same — the same TLS connect (and refusal without the CA) and the same bridge
 * traffic, in both directions, as the topic lines say.
 */
import { execFile, spawn } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import mqtt from 'mqtt';
import { requireMosquitto, startMosquitto } from '../helpers/mosquitto.ts';
import { startTestServer, testDataDir } from '../helpers/mcm-server.ts';
import { runMcm } from '../helpers/cli.ts';
import { login } from '../helpers/mqtt-client.ts';
import { freePort } from '../helpers/ports.ts';
import { makeCa, makeCert } from '../helpers/pki.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const sh = promisify(execFile);

const tls = (t: TestContext, port: number, o: mqtt.IClientOptions): Promise<mqtt.MqttClient | null> =>
  new Promise((resolve) => {
    const c = mqtt.connect({ host: '127.0.0.1', port, protocol: 'mqtts', protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 5000, servername: 'localhost', ...o });
    t.after(() => { c.end(true); });
    c.once('connect', () => resolve(c));
    c.once('error', () => { c.end(true); resolve(null); });
  });

/** A message published on `from` as `topic` arrives on `to` as `expect` (subscribed to #), within 3 s. */
const carried = async (from: mqtt.MqttClient, topic: string, to: mqtt.MqttClient, expect: string, ms = 3000): Promise<boolean> => {
  const payload = `p-${Date.now()}-${Math.random()}`;
  const seen = new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => { to.off('message', on); resolve(false); }, ms);
    const on = (t: string, p: Buffer): void => { if (t === expect && p.toString() === payload) { clearTimeout(timer); to.off('message', on); resolve(true); } };
    to.on('message', on);
  });
  await from.publishAsync(topic, payload, { qos: 1 });
  return seen;
};

/** What an operator checks on a broker: TLS with/without the CA, and the bridge both ways. */
const behaviour = async (t: TestContext, ports: { plain: number; tls: number; remote: number }, ca: string): Promise<Record<string, boolean>> => {
  const withCa = await tls(t, ports.tls, { username: 'plc', password: 'plc-Pa55word', ca });
  const withoutCa = await tls(t, ports.tls, { username: 'plc', password: 'plc-Pa55word' });
  const local = await login(t, ports.plain, 'plc', 'plc-Pa55word');
  const cloud = await login(t, ports.remote, 'cloud', 'cloud-Pa55word');
  assert.ok(local.ok && cloud.ok);
  if (!local.ok || !cloud.ok) return {};
  await local.client.subscribeAsync('#', { qos: 1 });
  await cloud.client.subscribeAsync('#', { qos: 1 });
  // Give the bridge a moment to (re)connect: wait until a message gets through, bounded.
  for (let i = 0; i < 50 && !(await carried(local.client, 'site/warmup', cloud.client, 'plants/edge-1/warmup')); i++) { /* retry */ }
  return {
    tlsWithCa: withCa !== null,
    tlsWithoutCa: withoutCa !== null,
    outPrefixed: await carried(local.client, 'site/line1/temp', cloud.client, 'plants/edge-1/line1/temp'),
    outOther: await carried(local.client, 'local/x', cloud.client, 'local/x', 1000),
    inCmd: await carried(cloud.client, 'cmd/line1/stop', local.client, 'cmd/line1/stop'),
    inOther: await carried(cloud.client, 'elsewhere/x', local.client, 'elsewhere/x', 1000),
  };
};

describe('import a mosquitto.conf with a TLS listener and a bridge, then render it', () => {
  it('the rendered broker behaves as the original: TLS connect, bridge traffic as the topic lines say', async (t) => {
    const bin = requireMosquitto(t);
    if (!bin) return;
    const work = tempDir(t, 'mcm-import-conf-');
    chmodSync(work, 0o755);
    const ca = makeCa(join(work, 'pki'), 'Plant CA');
    const server = makeCert(join(work, 'pki'), { ca, cn: 'localhost' });
    for (const f of [ca.cert, server.cert, server.key]) chmodSync(f, 0o644);
    chmodSync(join(work, 'pki'), 0o755);

    // The remote ("cloud") broker the bridge connects to.
    const remoteDir = tempDir(t, 'mcm-import-remote-');
    const rpw = join(remoteDir, 'passwd');
    writeFileSync(rpw, '');
    await sh('mosquitto_passwd', ['-b', rpw, 'edge-bridge', 'Bridge-Secret-42']);
    await sh('mosquitto_passwd', ['-b', rpw, 'cloud', 'cloud-Pa55word']);
    chmodSync(rpw, 0o644);
    const remote = await startMosquitto(t, bin, { dir: remoteDir, lines: ['allow_anonymous false', `password_file ${rpw}`] });

    // The operator's broker, made by hand.
    const pw = join(work, 'passwd');
    writeFileSync(pw, '');
    await sh('mosquitto_passwd', ['-b', pw, 'plc', 'plc-Pa55word']);
    chmodSync(pw, 0o644);
    const acl = join(work, 'acl');
    writeFileSync(acl, 'user plc\ntopic readwrite #\n', { mode: 0o644 });
    const ports = { plain: await freePort(), tls: await freePort(), remote: remote.port };
    const conf = join(work, 'mosquitto.conf');
    writeFileSync(conf, [
      '# the plant broker, by hand',
      ...(process.getuid?.() === 0 ? ['user root'] : []),
      'per_listener_settings false',
      'allow_anonymous false',
      `password_file ${pw}`,
      `acl_file ${acl}`,
      'persistence false',
      'log_dest stderr',
      '',
      `listener ${ports.plain} 127.0.0.1`,
      '',
      `listener ${ports.tls} 127.0.0.1`,
      `cafile ${ca.cert}`,
      `certfile ${server.cert}`,
      `keyfile ${server.key}`,
      'tls_version tlsv1.2',
      '',
      'max_inflight_messages 30',
      '',
      'connection cloud',
      `address 127.0.0.1:${ports.remote}`,
      'remote_username edge-bridge',
      'remote_password Bridge-Secret-42',
      'remote_clientid edge-1',
      'cleansession true',
      'topic # out 1 site/ plants/edge-1/',
      'topic cmd/# in 1',
      '',
    ].join('\n'), { mode: 0o644 });

    // The original behaviour.
    const child = spawn(bin, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    t.after(() => { child.kill('SIGKILL'); });
    let log = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`original broker did not start:\n${log}`)), 5000);
      child.stderr.on('data', (b: Buffer) => { log += b.toString(); if (/ running/.test(log)) { clearTimeout(timer); resolve(); } });
      child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`original broker exited (${code}):\n${log}`)); });
    });
    const before = await behaviour(t, ports, ca.certPem);
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
    assert.deepEqual(before, { tlsWithCa: true, tlsWithoutCa: false, outPrefixed: true, outOther: false, inCmd: true, inOther: false }, 'the hand-made broker, as a baseline');

    // Import into a fresh data dir, then MCM renders it for its supervised broker.
    const dataDir = testDataDir(t);
    const imported = await runMcm(['import', '--conf', conf, '--yes'], { cwd: work, env: { MCM_DATA_DIR: dataDir, MCM_MQTT_PORT: String(await freePort()) } });
    assert.equal(imported.code, 0, `${imported.stdout}\n${imported.stderr}`);
    const mcm = await startTestServer(t, bin, { dataDir });
    const status = mcm.applyLoop.status();
    assert.equal(status.state, 'applied', JSON.stringify(status));
    const after = await behaviour(t, ports, ca.certPem);
    assert.deepEqual(after, before, 'the broker MCM renders behaves as the original');
  });
});
