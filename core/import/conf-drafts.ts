/**
 * The listeners and bridges of an imported mosquitto.conf as the broker collected them (drafts),
 * turned into MCM's model (core/broker-config/model.ts) once every file is read: TLS files become
 * certificates with names derived from the listener or bridge (the same file is one certificate),
 * bridge passwords are set aside for the adapter to store in `secrets/`. Pure.
 */
import { isIpAddress } from '../broker-config/validate.ts';
import { TLS_VERSIONS, type Bridge, type BridgeTopic, type Listener, type TlsVersion } from '../broker-config/model.ts';
import type { ImportProblem, ImportWarning } from './import-types.ts';

/** Where a line is: its number, and the included file it is in (null: the main file). */
export type ConfOrigin = Readonly<{ line: number; source: string | null }>;

export type Located<T> = Readonly<{ value: T; origin: ConfOrigin }>;

export type ListenerDraft = {
  port: number;
  /** The address or interface after the port (`listener 1883 127.0.0.1`, `bind_address`). */
  host: string | null;
  origin: ConfOrigin;
  /** The default listener (`port`, or listener lines before any `listener`): port 1883 unless set. */
  isDefault: boolean;
  protocol: 'mqtt' | 'websockets';
  bindInterface: Located<string> | null;
  maxConnections: number | null;
  certfile: Located<string> | null;
  keyfile: Located<string> | null;
  cafile: Located<string> | null;
  tlsVersion: Located<string> | null;
  requireCertificate: Located<boolean> | null;
  useIdentityAsUsername: Located<boolean> | null;
};

export type BridgeDraft = {
  name: string;
  origin: ConfOrigin;
  addresses: { host: string; port: number }[] | null;
  remoteUsername: string | null;
  password: Located<string> | null;
  remoteClientId: string | null;
  cafile: Located<string> | null;
  certfile: Located<string> | null;
  keyfile: Located<string> | null;
  tlsVersion: Located<string> | null;
  topics: BridgeTopic[];
  cleansession: boolean;
  keepalive: number;
};

export const newListener = (port: number, host: string | null, origin: ConfOrigin, isDefault: boolean): ListenerDraft => ({
  port, host, origin, isDefault, protocol: 'mqtt', bindInterface: null, maxConnections: null,
  certfile: null, keyfile: null, cafile: null, tlsVersion: null, requireCertificate: null, useIdentityAsUsername: null,
});

export const newBridge = (name: string, origin: ConfOrigin): BridgeDraft => ({
  name, origin, addresses: null, remoteUsername: null, password: null, remoteClientId: null,
  cafile: null, certfile: null, keyfile: null, tlsVersion: null, topics: [], cleansession: false, keepalive: 60,
});

/** A TLS file of the conf, stored as a certificate named `name` (with its key for a listener or bridge client certificate). */
export type ConfCertificate = Readonly<{
  name: string;
  /** The certificate file (for a CA: the cafile), as the conf writes it. */
  certfile: string;
  keyfile: string | null;
  /** A CA (cafile, bridge_cafile): stored without a key, must be CA:TRUE. */
  ca: boolean;
  origin: ConfOrigin;
  /** Where the keyfile line is (null: no key). */
  keyOrigin: ConfOrigin | null;
}>;

export type BridgePassword = Readonly<{ bridge: string; password: string; origin: ConfOrigin }>;

export type Report = Readonly<{
  problem: (origin: ConfOrigin, message: string) => void;
  warn: (origin: ConfOrigin, code: string, message: string) => void;
}>;

export const reportTo = (problems: ImportProblem[], warnings: ImportWarning[]): Report => {
  const text = (o: ConfOrigin, m: string): string => (o.source === null ? m : `${o.source}: ${m}`);
  return {
    problem: (o, message) => { problems.push({ file: 'mosquitto_conf', line: o.line, message: text(o, message) }); },
    warn: (o, code, message) => { warnings.push({ file: 'mosquitto_conf', line: o.line, code, message: text(o, message) }); },
  };
};

/** A certificate name (core/broker-config/certificates.ts CERTIFICATE_NAME) from a listener or bridge name. */
const slug = (s: string): string => s.toLowerCase().replace(/[^a-z0-9_.-]+/g, '-').replace(/^[^a-z0-9]+/, '').slice(0, 56) || 'conf';

/** Names certificates, one per distinct file (a CA named by two listeners is one certificate). */
export const createCertificateNamer = () => {
  const certificates: ConfCertificate[] = [];
  const byFile = new Map<string, string>();
  const taken = new Set<string>();
  const add = (base: string, certfile: Located<string>, keyfile: Located<string> | null, ca: boolean): string => {
    const key = `${ca ? 'ca' : 'cert'}\0${certfile.value}\0${keyfile?.value ?? ''}`;
    const known = byFile.get(key);
    if (known !== undefined) return known;
    let name = base;
    for (let i = 2; taken.has(name); i++) name = `${base}-${i}`;
    taken.add(name);
    byFile.set(key, name);
    certificates.push({ name, certfile: certfile.value, keyfile: keyfile?.value ?? null, ca, origin: certfile.origin, keyOrigin: keyfile?.origin ?? null });
    return name;
  };
  return { add, certificates };
};

type Namer = ReturnType<typeof createCertificateNamer>;

const tlsVersionOf = (v: Located<string> | null, what: string, r: Report): TlsVersion | null | undefined => {
  if (v === null) return null;
  if ((TLS_VERSIONS as readonly string[]).includes(v.value)) return v.value as TlsVersion;
  r.problem(v.origin, `${what}: MCM manages tlsv1.2 and tlsv1.3 (got ${JSON.stringify(v.value)})`);
  return undefined;
};

const labelOf = (d: ListenerDraft): string => (d.isDefault ? `the default listener (port ${d.port})` : `listener ${d.port}`);

/** Where the listener binds, as the broker does it (reference §7). */
const bindingOf = (d: ListenerDraft, r: Report): { address: string | null; bindInterface: string | null } | null => {
  const iface = d.bindInterface?.value ?? null;
  if (d.host === null) return { address: null, bindInterface: iface };
  if (d.protocol === 'websockets') {
    if (isIpAddress(d.host)) {
      // eclipse/mosquitto#3045: libwebsockets takes the host as an interface; an IP address is
      // ignored and the socket binds every interface. Imported as the broker behaves.
      r.warn(d.origin, 'websockets_address_ignored', `${labelOf(d)} (websockets) names the address ${d.host}, which Mosquitto 2.0 ignores: it listens on every interface, and is imported that way; to listen on loopback only, bind the interface lo instead`);
      return { address: null, bindInterface: iface };
    }
    if (iface !== null && iface !== d.host) {
      r.problem(d.origin, `${labelOf(d)} names the interface ${d.host} and bind_interface ${iface}: MCM binds one interface`);
      return null;
    }
    return { address: null, bindInterface: d.host };
  }
  if (!isIpAddress(d.host)) {
    r.problem(d.origin, `${labelOf(d)} binds the host name ${JSON.stringify(d.host)}: MCM binds an IP address (e.g. 127.0.0.1, ::1) or an interface (bind_interface)`);
    return null;
  }
  return { address: d.host, bindInterface: iface };
};

const listenerTls = (d: ListenerDraft, name: string, certs: Namer, r: Report): Listener['tls'] | undefined => {
  const label = labelOf(d);
  if (d.certfile === null || d.keyfile === null) {
    const one = d.certfile ?? d.keyfile ?? d.cafile;
    if (one !== null) {
      r.problem(one.origin, d.certfile === null && d.keyfile === null
        ? `${label} has a cafile but no certfile and keyfile: MCM manages TLS listeners with a certificate and its key`
        : `${label} has ${d.certfile === null ? 'a keyfile without a certfile' : 'a certfile without a keyfile'}: the broker needs both`);
      return undefined;
    }
    for (const x of [d.requireCertificate, d.useIdentityAsUsername]) {
      if (x?.value === true) r.warn(x.origin, 'tls_option_without_tls', `${label} has no TLS (no certfile), so this line has no effect and is left out`);
    }
    return null;
  }
  const minVersion = tlsVersionOf(d.tlsVersion, `tls_version on ${label}`, r);
  if (minVersion === undefined) return undefined;
  return {
    certificate: certs.add(`${name}-cert`, d.certfile, d.keyfile, false),
    ca: d.cafile === null ? null : certs.add(`${name}-ca`, d.cafile, null, true),
    minVersion: minVersion ?? 'tlsv1.2',
    requireCertificate: d.requireCertificate?.value === true,
    useIdentityAsUsername: d.useIdentityAsUsername?.value === true,
  };
};

/** `mqtt-1883`, `ws-9001`, `tls-8883`, `wss-8884`: stable names from what the listener is. */
const listenerName = (d: ListenerDraft, taken: Set<string>): string => {
  const tls = d.certfile !== null;
  const base = `${d.protocol === 'websockets' ? (tls ? 'wss' : 'ws') : (tls ? 'tls' : 'mqtt')}-${d.port}`;
  let name = base;
  for (let i = 2; taken.has(name); i++) name = `${base}-${i}`;
  taken.add(name);
  return name;
};

export const listenersOf = (drafts: readonly ListenerDraft[], certs: Namer, r: Report): { listeners: Listener[]; origins: ConfOrigin[] } => {
  const taken = new Set<string>();
  const listeners: Listener[] = [];
  const origins: ConfOrigin[] = [];
  for (const d of drafts) {
    const name = listenerName(d, taken);
    const binding = bindingOf(d, r);
    const tls = listenerTls(d, name, certs, r);
    if (binding === null || tls === undefined) continue;
    listeners.push({ name, port: d.port, protocol: d.protocol, ...binding, tls, maxConnections: d.maxConnections });
    origins.push(d.origin);
  }
  return { listeners, origins };
};

const bridgeTls = (d: BridgeDraft, certs: Namer, r: Report): Bridge['tls'] | undefined => {
  const label = `bridge ${d.name}`;
  if ((d.certfile === null) !== (d.keyfile === null)) {
    r.problem((d.certfile ?? d.keyfile ?? d).origin, `${label} has ${d.certfile === null ? 'a bridge_keyfile without a bridge_certfile' : 'a bridge_certfile without a bridge_keyfile'}: the broker needs both`);
    return undefined;
  }
  if (d.cafile === null) {
    if (d.certfile !== null) {
      r.problem(d.certfile.origin, `${label} has a client certificate but no bridge_cafile: MCM manages bridge TLS with a CA to verify the remote broker`);
      return undefined;
    }
    return null;
  }
  const version = tlsVersionOf(d.tlsVersion, `bridge_tls_version on ${label}`, r);
  if (version === undefined) return undefined;
  const base = slug(d.name);
  return {
    ca: certs.add(`${base}-ca`, d.cafile, null, true),
    certificate: d.certfile === null || d.keyfile === null ? null : certs.add(`${base}-cert`, d.certfile, d.keyfile, false),
    version,
  };
};

/** Characters `createBridgePasswords` refuses: mosquitto.conf cannot carry them back. */
const PASSWORD_UNSAFE = /[\s\p{Cc}]/u;

export const bridgesOf = (
  drafts: readonly BridgeDraft[], certs: Namer, r: Report,
): { bridges: Bridge[]; origins: ConfOrigin[]; passwords: BridgePassword[] } => {
  const bridges: Bridge[] = [];
  const origins: ConfOrigin[] = [];
  const passwords: BridgePassword[] = [];
  for (const d of drafts) {
    const label = `bridge ${d.name}`;
    let ok = true;
    // conf.c config__read: a bridge without an address or a topic stops the broker at start.
    if (d.addresses === null) { r.problem(d.origin, `${label} has no address line (the broker refuses it)`); ok = false; }
    if (d.topics.length === 0) { r.problem(d.origin, `${label} has no topic line (the broker refuses it)`); ok = false; }
    if (d.password !== null) {
      // Never quote the password in a message: problems and warnings are shown and logged.
      if (d.remoteUsername === null) { r.problem(d.password.origin, `${label} has a remote_password but no remote_username: MQTT sends a password only with a username`); ok = false; }
      if (PASSWORD_UNSAFE.test(d.password.value)) { r.problem(d.password.origin, `the remote_password of ${label} holds a space or control character, which MCM cannot keep (mosquitto.conf has no quoting)`); ok = false; }
    }
    const tls = bridgeTls(d, certs, r);
    if (!ok || tls === undefined) continue;
    if (d.password !== null) passwords.push({ bridge: d.name, password: d.password.value, origin: d.password.origin });
    bridges.push({
      name: d.name,
      addresses: d.addresses ?? [],
      remoteUsername: d.remoteUsername,
      remotePasswordRef: null,
      remoteClientId: d.remoteClientId,
      tls,
      topics: d.topics,
      cleansession: d.cleansession,
      keepalive: d.keepalive,
    });
    origins.push(d.origin);
  }
  return { bridges, origins, passwords };
};
