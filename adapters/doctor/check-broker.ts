/**
 * Can MCM reach its broker? Three phases, each named when it fails so the fix is obvious:
 * tcp (something listens on mqtt.host:mqtt.port), tls (when mqtt.tls.enabled: the handshake and
 * the broker's certificate), mqtt (a CONNECT as MCM's service account is accepted: the broker
 * uses the password file MCM renders). MQTT v5, as the probe uses (adapters/mosquitto/probe.ts),
 * and a probe client id, so the observer keeps this login out of the client table (DESIGN §6).
 */
import { readFileSync } from 'node:fs';
import { isIP, connect as tcpConnect } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import mqtt from 'mqtt';
import { PROBE_CLIENT_PREFIX } from '../mosquitto/probe.ts';
import type { Config } from '../config/config.ts';
import { readServiceAccount } from '../backup/read-service-account.ts';
import { fail, pass, warn, type CheckResult } from './check-result.ts';
import { renderedFilePaths } from './check-broker-files.ts';

const TIMEOUT_MS = 5000;

/** MQTT v5 CONNACK reason codes a refused login comes back with (MQTT 5.0 §3.2.2.2). */
const REASONS: Readonly<Record<number, string>> = {
  4: 'bad user name or password (v3)', 5: 'not authorised (v3)',
  128: 'unspecified error', 133: 'client identifier not valid', 134: 'bad user name or password', 135: 'not authorized',
  136: 'server unavailable', 137: 'server busy', 138: 'banned', 140: 'bad authentication method',
};

const phaseTcp = (host: string, port: number): Promise<string | null> =>
  new Promise((resolve) => {
    const sock = tcpConnect({ host, port });
    const done = (err: string | null): void => { sock.destroy(); resolve(err); };
    sock.setTimeout(TIMEOUT_MS, () => done(`no answer within ${TIMEOUT_MS} ms`));
    sock.once('connect', () => done(null));
    sock.once('error', (e: NodeJS.ErrnoException) => done(e.code ?? e.message));
  });

type TlsFiles = { ca?: Buffer; cert?: Buffer; key?: Buffer; rejectUnauthorized: boolean; servername?: string };

const tlsOptions = (config: Config): TlsFiles => {
  const t = config.mqtt.tls;
  const read = (p: string | null): Buffer | undefined => (p ? readFileSync(p) : undefined);
  return {
    ca: read(t.ca), cert: read(t.cert), key: read(t.key), rejectUnauthorized: t.reject_unauthorized,
    ...(isIP(config.mqtt.host) === 0 ? { servername: config.mqtt.host } : {}),
  };
};

const phaseTls = (config: Config): Promise<string | null> =>
  new Promise((resolve) => {
    let opts: ConnectionOptions;
    try {
      opts = tlsOptions(config);
    } catch (e) {
      resolve(`cannot read the TLS files in mqtt.tls: ${(e as Error).message}`);
      return;
    }
    const sock = tlsConnect({ host: config.mqtt.host, port: config.mqtt.port, ...opts });
    const done = (err: string | null): void => { sock.destroy(); resolve(err); };
    sock.setTimeout(TIMEOUT_MS, () => done(`no TLS handshake within ${TIMEOUT_MS} ms (does the listener speak TLS?)`));
    sock.once('secureConnect', () => done(null));
    sock.once('error', (e: NodeJS.ErrnoException) => done(`${e.code ?? ''} ${e.message}`.trim()));
  });

type Login = { ok: true } | { ok: false; code: number | null; message: string };

const phaseMqtt = (config: Config, username: string, password: string): Promise<Login> =>
  new Promise((resolve) => {
    const tls = config.mqtt.tls.enabled ? tlsOptions(config) : null;
    const client = mqtt.connect({
      protocol: tls ? 'mqtts' : 'mqtt', host: config.mqtt.host, port: config.mqtt.port, protocolVersion: 5,
      clientId: `${PROBE_CLIENT_PREFIX}doctor-${process.pid}`, username, password, clean: true, reconnectPeriod: 0, connectTimeout: TIMEOUT_MS,
      ...(tls ?? {}),
    });
    let settled = false;
    const done = (r: Login): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      client.end(true);
      resolve(r);
    };
    const timer = setTimeout(() => done({ ok: false, code: null, message: `no CONNACK within ${TIMEOUT_MS} ms` }), TIMEOUT_MS + 500);
    client.once('connect', () => done({ ok: true }));
    client.on('error', (e: Error & { code?: number | string }) => {
      done({ ok: false, code: typeof e.code === 'number' ? e.code : null, message: e.message });
    });
    client.once('close', () => done({ ok: false, code: null, message: 'the broker closed the connection before CONNACK' }));
  });

export const checkBroker = async (config: Config): Promise<CheckResult> => {
  const { host, port } = config.mqtt;
  const target = `${host}:${port}`;
  const tcp = await phaseTcp(host, port);
  if (tcp !== null) {
    return fail('broker', `tcp: cannot connect to ${target}: ${tcp}`,
      config.mosquitto.mode === 'supervised'
        ? 'in supervised mode `mcm server` runs the broker: is it running? Its log says why the broker stopped'
        : `start the broker, or make mqtt.host/mqtt.port (MCM_MQTT_HOST/MCM_MQTT_PORT) match its listener`,
      'tcp');
  }
  if (config.mqtt.tls.enabled) {
    const tls = await phaseTls(config);
    if (tls !== null) {
      return fail('broker', `tls: handshake with ${target} failed: ${tls}`,
        'check that the listener speaks TLS, that mqtt.tls.ca is the CA that signed the broker\'s certificate and that the certificate names mqtt.host', 'tls');
    }
  }
  const username = config.mqtt.service_account.username;
  let account;
  try {
    account = await readServiceAccount(config.data_dir, username);
  } catch (e) {
    return fail('broker', `mqtt: cannot read the service account: ${(e as Error).message}`, 'restore <data_dir>/secrets/ from the same backup as the database', 'mqtt');
  }
  const reached = `tcp${config.mqtt.tls.enabled ? ', tls' : ''} ok`;
  if (account === null) {
    return warn('broker', `${reached} to ${target}; MQTT login not tried: no service account in ${config.data_dir}/secrets yet`, 'start `mcm server` once: it creates the account and renders it into the password file');
  }
  const login = await phaseMqtt(config, username, account.password);
  if (!login.ok) {
    const why = login.code === null ? login.message : `CONNACK ${login.code} (${REASONS[login.code] ?? 'refused'})`;
    return fail('broker', `mqtt: ${target} refused MCM's service account "${username}": ${why}`,
      `the broker must load the password and ACL files MCM writes (${renderedFilePaths(config).passwordFile}): check password_file in its mosquitto.conf, let \`mcm server\` apply them, and reload the broker`,
      'mqtt');
  }
  return pass('broker', `${reached} to ${target}, MQTT CONNECT as "${username}" accepted`);
};
