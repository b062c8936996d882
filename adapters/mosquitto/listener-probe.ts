/**
 * After an apply that touched mosquitto.conf, every operator listener must answer as configured
 * (issue "Broker configuration as events"): the TCP port accepts; a TLS listener presents the
 * certificate MCM stored (SHA-256 fingerprint); a websockets listener upgrades; and where MCM can
 * authenticate (no client certificate required) an MQTT CONNECT as the service account is
 * accepted. A listener that binds only an interface other than lo is reached through that
 * interface's first address.
 */
import { networkInterfaces } from 'node:os';
import { connect as tcpConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type * as Mqtt from 'mqtt';
import { lazyModule } from '../modules/lazy-module.ts';
import type { BrokerConfigModel, Certificate, Listener } from '../../core/broker-config/model.ts';
import { PROBE_CLIENT_PREFIX } from './probe.ts';
import { randomBytes } from 'node:crypto';

/** Loaded with the first connection, not with the server (issue 14). */
const mqtt = lazyModule<typeof Mqtt>('mqtt');

export type ListenerProbeDeps = Readonly<{
  username: string;
  password: string;
  certificates: () => Readonly<Record<string, Certificate>>;
  timeoutMs: number;
}>;

const WILDCARD = new Set(['0.0.0.0', '::', '']);

/** Where MCM can reach a listener from this host. */
export const listenerHost = (l: Listener): string => {
  if (l.address !== null && !WILDCARD.has(l.address)) return l.address;
  if (l.bindInterface !== null && l.bindInterface !== 'lo') {
    const addrs = networkInterfaces()[l.bindInterface] ?? [];
    const a = addrs.find((x) => x.family === 'IPv4') ?? addrs[0];
    if (a) return a.address;
  }
  return '127.0.0.1';
};

const withTimeout = <T>(ms: number, what: string, run: (done: (v: T) => void, fail: (e: Error) => void) => () => void): Promise<T> =>
  new Promise<T>((resolve, reject) => {
    let cleanup: () => void = () => {};
    const timer = setTimeout(() => { cleanup(); reject(new Error(`${what}: no answer within ${ms} ms`)); }, ms);
    cleanup = run((v) => { clearTimeout(timer); cleanup(); resolve(v); }, (e) => { clearTimeout(timer); cleanup(); reject(e); });
  });

const tcpOpen = (host: string, port: number, ms: number): Promise<void> =>
  withTimeout(ms, `TCP ${host}:${port}`, (done, fail) => {
    const s = tcpConnect({ host, port }, () => done());
    s.once('error', (e) => fail(new Error(`TCP ${host}:${port}: ${e.message}`)));
    return () => s.destroy();
  });

/** The fingerprint of the certificate the listener presents (TLS 1.3, so a client-certificate demand comes after). */
const presentedFingerprint = (host: string, port: number, ms: number): Promise<string> =>
  withTimeout(ms, `TLS ${host}:${port}`, (done, fail) => {
    const s = tlsConnect({ host, port, rejectUnauthorized: false, servername: /^[\d.:]+$/.test(host) ? undefined : host, minVersion: 'TLSv1.2' }, () => {
      done(s.getPeerCertificate().fingerprint256 ?? '');
    });
    s.once('error', (e) => fail(new Error(`TLS handshake with ${host}:${port}: ${e.message}`)));
    return () => s.destroy();
  });

const mqttConnect = (url: string, deps: ListenerProbeDeps): Promise<void> =>
  withTimeout(deps.timeoutMs, `MQTT CONNECT to ${url}`, (done, fail) => {
    const c = mqtt().connect(url, {
      username: deps.username, password: deps.password, clientId: `${PROBE_CLIENT_PREFIX}l-${randomBytes(4).toString('hex')}`,
      protocolVersion: 5, reconnectPeriod: 0, connectTimeout: deps.timeoutMs, rejectUnauthorized: false,
    });
    c.once('connect', () => done());
    c.once('error', (e) => fail(new Error(`MQTT CONNECT to ${url} refused: ${e.message}`)));
    return () => { c.end(true); };
  });

const probeOne = async (l: Listener, deps: ListenerProbeDeps): Promise<void> => {
  const host = listenerHost(l);
  const h = host.includes(':') ? `[${host}]` : host;
  await tcpOpen(host, l.port, deps.timeoutMs);
  if (l.tls) {
    const want = deps.certificates()[l.tls.certificate]?.fingerprint;
    const got = await presentedFingerprint(host, l.port, deps.timeoutMs);
    if (want !== undefined && got.toUpperCase() !== want.toUpperCase()) {
      throw new Error(`listener ${l.name} presents certificate ${got}, expected ${l.tls.certificate} (${want})`);
    }
    // Without a client certificate MCM cannot log in where one is required; the handshake is the proof.
    if (l.tls.requireCertificate) return;
  }
  const scheme = l.protocol === 'websockets' ? (l.tls ? 'wss' : 'ws') : (l.tls ? 'mqtts' : 'mqtt');
  await mqttConnect(`${scheme}://${h}:${l.port}${l.protocol === 'websockets' ? '/mqtt' : ''}`, deps);
};

/** Null when every listener answers; otherwise why the first ones do not. */
export const probeListeners = async (config: BrokerConfigModel, deps: ListenerProbeDeps): Promise<string | null> => {
  const results = await Promise.allSettled(config.listeners.map((l) => probeOne(l, deps)));
  const failures = results.flatMap((r, i) => (r.status === 'rejected' ? [`${config.listeners[i]?.name}: ${(r.reason as Error).message}`] : []));
  return failures.length === 0 ? null : failures.slice(0, 5).join('; ');
};
