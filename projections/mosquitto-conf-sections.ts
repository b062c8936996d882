/**
 * The operator's part of mosquitto.conf (issue "Broker configuration as events"): global options,
 * listeners, bridges and the passthrough block, rendered from the validated model. Pure: paths of
 * TLS files and bridge passwords come in as data. mosquitto.conf(5) and reference §7 rules:
 * listener-scoped lines follow their `listener` line, bridge-scoped lines their `connection` line;
 * one option per line, single spaces, no quoting exists (the core refuses values with spaces).
 */
import { REQUIRED_LOG_TYPES, LOG_TYPES } from '../core/broker-config/catalog.ts';
import type { Bridge, BrokerConfigModel, Listener } from '../core/broker-config/model.ts';

export type ConfSecrets = Readonly<{
  /** Absolute directory holding `<certificate>.crt` and `<certificate>.key` for the broker. */
  tlsDir: string;
  /** A bridge password by reference; null when it is missing (the bridge then renders without it). */
  bridgePassword: (ref: string) => string | null;
}>;

/** Written in place of a bridge password wherever the rendered file is shown or stored (never the secret). */
export const REDACTED = '********';

export const certPath = (s: ConfSecrets, name: string): string => `${s.tlsDir.replace(/\/+$/, '')}/${name}.crt`;
export const keyPath = (s: ConfSecrets, name: string): string => `${s.tlsDir.replace(/\/+$/, '')}/${name}.key`;

/** Options MCM renders itself when the operator did not set them (MCM's defaults, not the broker's). */
const MCM_DEFAULTS: Readonly<Record<string, boolean | number>> = { persistence: true, sys_interval: 10 };

/**
 * Global options: `persistence` (MCM's default true) goes with persistence_location; the rest after
 * it in name order, then the log types (error, warning and notice always: MCM reads them) and
 * sys_interval (MCM's default 10: the dashboard reads $SYS).
 */
export const optionLines = (config: BrokerConfigModel): { persistence: string; logTypes: string[]; sysInterval: string; rest: string[] } => {
  const rest: string[] = [];
  for (const name of Object.keys(config.options).sort()) {
    if (name === 'log_type' || name === 'persistence' || name === 'sys_interval') continue;
    const v = config.options[name];
    rest.push(`${name} ${typeof v === 'boolean' ? (v ? 'true' : 'false') : String(v)}`);
  }
  const chosen = config.options['log_type'];
  const extra: readonly string[] = Array.isArray(chosen) ? chosen : ['information'];
  const types = LOG_TYPES.filter((t) => (REQUIRED_LOG_TYPES as readonly string[]).includes(t) || extra.includes(t));
  const persistence = config.options['persistence'] ?? MCM_DEFAULTS['persistence'];
  return {
    persistence: `persistence ${persistence === false ? 'false' : 'true'}`,
    logTypes: types.map((t) => `log_type ${t}`),
    sysInterval: `sys_interval ${String(config.options['sys_interval'] ?? MCM_DEFAULTS['sys_interval'])}`,
    rest,
  };
};

export const renderListener = (l: Listener, s: ConfSecrets): string[] => {
  const lines = [`# listener ${l.name}`];
  // reference §7: a websockets listener binds an interface given as its host; an MQTT listener
  // takes an IP address there and an interface through bind_interface.
  if (l.protocol === 'websockets') lines.push(`listener ${l.port}${l.bindInterface ? ` ${l.bindInterface}` : ''}`);
  else lines.push(`listener ${l.port}${l.address ? ` ${l.address}` : ''}`, ...(l.bindInterface ? [`bind_interface ${l.bindInterface}`] : []));
  lines.push(`protocol ${l.protocol}`);
  if (l.maxConnections !== null) lines.push(`max_connections ${l.maxConnections}`);
  if (l.tls) {
    lines.push(`certfile ${certPath(s, l.tls.certificate)}`, `keyfile ${keyPath(s, l.tls.certificate)}`);
    if (l.tls.ca) lines.push(`cafile ${certPath(s, l.tls.ca)}`);
    lines.push(`tls_version ${l.tls.minVersion}`);
    if (l.tls.requireCertificate) lines.push('require_certificate true');
    if (l.tls.useIdentityAsUsername) lines.push('use_identity_as_username true');
  }
  return lines;
};

const word = (s: string): string => (s === '' ? '""' : s);

export const renderBridge = (b: Bridge, s: ConfSecrets, redact: boolean): string[] => {
  const lines = [`connection ${b.name}`, `address ${b.addresses.map((a) => `${a.host}:${a.port}`).join(' ')}`];
  if (b.remoteUsername) lines.push(`remote_username ${b.remoteUsername}`);
  if (b.remotePasswordRef) {
    const password = redact ? REDACTED : s.bridgePassword(b.remotePasswordRef);
    if (password !== null) lines.push(`remote_password ${password}`);
  }
  if (b.remoteClientId) lines.push(`remote_clientid ${b.remoteClientId}`);
  lines.push(`cleansession ${b.cleansession ? 'true' : 'false'}`, `keepalive_interval ${b.keepalive}`);
  if (b.tls) {
    lines.push(`bridge_cafile ${certPath(s, b.tls.ca)}`);
    if (b.tls.certificate) lines.push(`bridge_certfile ${certPath(s, b.tls.certificate)}`, `bridge_keyfile ${keyPath(s, b.tls.certificate)}`);
    if (b.tls.version) lines.push(`bridge_tls_version ${b.tls.version}`);
  }
  for (const t of b.topics) {
    const prefixes = t.localPrefix !== '' || t.remotePrefix !== '' ? ` ${word(t.localPrefix)} ${word(t.remotePrefix)}` : '';
    lines.push(`topic ${word(t.pattern)} ${t.direction} ${t.qos}${prefixes}`);
  }
  return lines;
};

/** The certificates a configuration makes the broker read (listener and bridge TLS), by name. */
export const certificatesUsed = (config: BrokerConfigModel): { name: string; key: boolean }[] => {
  const used = new Map<string, boolean>();
  const add = (name: string | null | undefined, key: boolean): void => { if (name) used.set(name, (used.get(name) ?? false) || key); };
  for (const l of config.listeners) { add(l.tls?.certificate, true); add(l.tls?.ca, false); }
  for (const b of config.bridges) { add(b.tls?.ca, false); add(b.tls?.certificate, true); }
  return [...used].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, key]) => ({ name, key }));
};
