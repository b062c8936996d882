/**
 * mosquitto.conf with the operator's configuration (issue "Broker configuration as events"):
 * golden files for Mosquitto 2.0 and 2.1 (plugin form, reference §8), and the same render
 * accepted by a real 2.0.11 that opens every listener (the broker's grammar is the judge).
 */
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { BrokerConfigModel } from '../../core/broker-config/model.ts';
import { renderMosquittoConf, type MosquittoConfOptions } from '../../projections/mosquitto-conf.ts';
import { requireMosquitto, runConf } from '../helpers/mosquitto.ts';
import { makeCa, makeCert } from '../helpers/pki.ts';
import { freePort } from '../helpers/ports.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const GOLDEN_DIR = join(import.meta.dirname, '../../fixtures/expected');

/** The golden file's text; `MCM_UPDATE_GOLDEN=1` rewrites it from the render (then review the diff). */
const golden = (name: string, actual: string): string => {
  if (process.env['MCM_UPDATE_GOLDEN'] === '1') writeFileSync(join(GOLDEN_DIR, name), actual);
  return readFileSync(join(GOLDEN_DIR, name), 'utf8');
};

const config = (ports: { tls: number; ws: number; mtls: number; remote: number }): BrokerConfigModel => ({
  listeners: [
    { name: 'tls', port: ports.tls, protocol: 'mqtt', address: '127.0.0.1', bindInterface: null, maxConnections: 500,
      tls: { certificate: 'broker', ca: null, minVersion: 'tlsv1.2', requireCertificate: false, useIdentityAsUsername: false } },
    { name: 'devices', port: ports.mtls, protocol: 'mqtt', address: null, bindInterface: 'lo', maxConnections: null,
      tls: { certificate: 'broker', ca: 'plant-ca', minVersion: 'tlsv1.3', requireCertificate: true, useIdentityAsUsername: true } },
    { name: 'browsers', port: ports.ws, protocol: 'websockets', address: null, bindInterface: 'lo', maxConnections: null, tls: null },
  ],
  options: { autosave_interval: 300, log_type: ['error', 'warning', 'notice', 'websockets'], max_inflight_messages: 40, max_queued_messages: 5000, message_size_limit: 1048576, retain_available: true, sys_interval: 15 },
  bridges: [{
    name: 'cloud', addresses: [{ host: '127.0.0.1', port: ports.remote }], remoteUsername: 'edge-1', remotePasswordRef: 'bridge-pw.0011223344556677',
    remoteClientId: 'edge-1', tls: null, cleansession: true, keepalive: 30,
    topics: [
      { pattern: '#', direction: 'out', qos: 1, localPrefix: 'site/', remotePrefix: 'plants/edge-1/' },
      { pattern: 'cmd/#', direction: 'in', qos: 1, localPrefix: '', remotePrefix: '' },
      { pattern: '', direction: 'both', qos: 0, localPrefix: 'status/edge', remotePrefix: 'edges/edge-1/status' },
    ],
  }],
  passthrough: ['queue_qos0_messages true'],
});

const options = (dir: string, o: Partial<MosquittoConfOptions> = {}): MosquittoConfOptions => ({
  passwordFile: `${dir}/passwd`, aclFile: `${dir}/acl`, allowAnonymous: false, host: '127.0.0.1', port: 1883, persistenceDir: `${dir}/persistence`,
  broker: { config: config({ tls: 8883, ws: 9001, mtls: 8884, remote: 1884 }), secrets: { tlsDir: `${dir}/tls`, bridgePassword: () => 'Bridge-Secret-42' } },
  ...o,
});

describe('renderMosquittoConf with listeners, options, bridges and passthrough', () => {
  it('2.0: renders the golden file fixtures/expected/broker-2.0.mosquitto.conf', () => {
    const out = renderMosquittoConf(options('/var/lib/mcm/mosquitto'));
    assert.equal(out, golden('broker-2.0.mosquitto.conf', out));
  });

  it('2.1: the same with the password-file and acl-file plugins, no per_listener_settings (reference §8)', () => {
    const out = renderMosquittoConf(options('/var/lib/mcm/mosquitto', { pluginDir: '/usr/lib/x86_64-linux-gnu/mosquitto' }));
    assert.equal(out, golden('broker-2.1.mosquitto.conf', out));
  });

  it('redacted: the bridge password becomes ******** (previews, stored copies)', () => {
    const out = renderMosquittoConf({ ...options('/x'), redact: true });
    assert.match(out, /^remote_password \*{8}$/m);
    assert.doesNotMatch(out, /Bridge-Secret-42/);
  });

  it('is deterministic and total: same input, same bytes; an empty configuration renders MCM defaults only', () => {
    assert.equal(renderMosquittoConf(options('/x')), renderMosquittoConf(options('/x')));
    const empty = renderMosquittoConf({ ...options('/x'), broker: null });
    assert.doesNotMatch(empty, /^(connection|certfile|max_connections) /m);
  });

  it('is accepted by a real mosquitto 2.0.11, which opens every listener and starts the bridge', async (t) => {
    const bin = requireMosquitto(t);
    if (!bin) return;
    const dir = tempDir(t);
    chmodSync(dir, 0o755);
    for (const d of ['persistence', 'tls']) { mkdirSync(join(dir, d), { mode: 0o777 }); chmodSync(join(dir, d), 0o777); }
    writeFileSync(join(dir, 'passwd'), '', { mode: 0o644 });
    writeFileSync(join(dir, 'acl'), '', { mode: 0o644 });
    const pki = join(dir, 'pki');
    const ca = makeCa(pki, 'Plant CA');
    const server = makeCert(pki, { ca, cn: 'localhost' });
    copyFileSync(server.cert, join(dir, 'tls', 'broker.crt'));
    copyFileSync(server.key, join(dir, 'tls', 'broker.key'));
    copyFileSync(ca.cert, join(dir, 'tls', 'plant-ca.crt'));
    for (const f of ['broker.crt', 'broker.key', 'plant-ca.crt']) chmodSync(join(dir, 'tls', f), 0o644);
    const ports = { tls: await freePort(), ws: await freePort(), mtls: await freePort(), remote: await freePort() };
    const confPath = join(dir, 'mosquitto.conf');
    writeFileSync(confPath, renderMosquittoConf({
      ...options(dir), port: await freePort(), user: process.getuid?.() === 0 ? 'root' : null,
      broker: { config: config(ports), secrets: { tlsDir: join(dir, 'tls'), bridgePassword: () => 'Bridge-Secret-42' } },
    }), { mode: 0o644 });
    const { running, log } = await runConf(t, bin, confPath);
    assert.ok(running, log);
    for (const p of [ports.tls, ports.mtls]) assert.match(log, new RegExp(`Opening ipv4 listen socket on port ${p}\\.`));
    assert.match(log, new RegExp(`Opening websockets listen socket on port ${ports.ws}\\.`));
    assert.match(log, /Connecting bridge \(step 1\) cloud/);
    assert.doesNotMatch(log, /Unknown configuration|Error found at|Invalid/, 'the broker read every line (the remote of the bridge is not running: its connect errors are expected)');
  });
});
