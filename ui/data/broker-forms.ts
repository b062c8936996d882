/**
 * The Broker screen's forms (no DOM): a listener, a bridge (addresses, write-only password, topic
 * lines) and a catalog option as the text the inputs hold, turned into the model and back. Only
 * what a form can't even send is caught here (a port that is not a number, a missing name); the
 * core checks the rest and its problems come back by field (broker-model.ts rowProblems).
 */
import type { BridgeDraft, BridgeTopic, Directive, Listener, OptionValue, TlsVersion } from './broker-model.ts';

export type Problems = Record<string, string>;

const INT = /^\d{1,10}$/;

/** '' → null; a whole number in range → it; otherwise a problem. */
const intField = (text: string, min: number, max: number, field: string, problems: Problems, optional: boolean): number | null => {
  const t = text.trim();
  if (t === '') {
    if (!optional) problems[field] = 'required';
    return null;
  }
  const n = Number(t);
  if (!INT.test(t) || n < min || n > max) {
    problems[field] = `a whole number from ${min.toLocaleString('en-US')} to ${max.toLocaleString('en-US')}`;
    return null;
  }
  return n;
};

// ---- listeners ------------------------------------------------------------------------------

export type ListenerForm = {
  name: string;
  port: string;
  protocol: 'mqtt' | 'websockets';
  address: string;
  bindInterface: string;
  maxConnections: string;
  tls: boolean;
  certificate: string;
  ca: string;
  minVersion: TlsVersion;
  requireCertificate: boolean;
  useIdentityAsUsername: boolean;
};

export const listenerForm = (l?: Listener): ListenerForm => ({
  name: l?.name ?? '',
  port: l ? String(l.port) : '',
  protocol: l?.protocol ?? 'mqtt',
  address: l?.address ?? '',
  bindInterface: l?.bindInterface ?? '',
  maxConnections: l?.maxConnections === null || l?.maxConnections === undefined ? '' : String(l.maxConnections),
  tls: l?.tls !== null && l?.tls !== undefined,
  certificate: l?.tls?.certificate ?? '',
  ca: l?.tls?.ca ?? '',
  minVersion: l?.tls?.minVersion ?? 'tlsv1.2',
  requireCertificate: l?.tls?.requireCertificate ?? false,
  useIdentityAsUsername: l?.tls?.useIdentityAsUsername ?? false,
});

/**
 * The listener a form describes, or the problems that keep it from being one. A websockets
 * listener binds an interface (an IP address there is ignored by Mosquitto 2.0: the form drops it).
 */
export const listenerFromForm = (f: ListenerForm, reservedPorts: readonly number[] = []): { listener: Listener | null; problems: Problems } => {
  const problems: Problems = {};
  const name = f.name.trim();
  if (name === '') problems['name'] = 'required';
  else if (!/^[a-z0-9][a-z0-9-]{0,31}$/.test(name)) problems['name'] = "1–32 of a-z, 0-9 and '-', starting with a letter or digit";
  const port = intField(f.port, 1, 65_535, 'port', problems, false);
  if (port !== null && reservedPorts.includes(port)) problems['port'] = `port ${port} is MCM's own listener`;
  const maxConnections = intField(f.maxConnections, 1, 2_147_483_647, 'maxConnections', problems, true);
  if (f.tls && f.certificate === '') problems['tls.certificate'] = 'choose a certificate with a private key';
  if (f.tls && f.requireCertificate && f.ca === '') problems['tls.ca'] = 'client certificates are checked against a CA: choose one';
  if (Object.keys(problems).length > 0 || port === null) return { listener: null, problems };
  const address = f.protocol === 'websockets' ? null : f.address.trim() || null;
  return {
    listener: {
      name, port, protocol: f.protocol, address, bindInterface: f.bindInterface.trim() || null, maxConnections,
      tls: f.tls ? {
        certificate: f.certificate, ca: f.ca || null, minVersion: f.minVersion,
        requireCertificate: f.requireCertificate, useIdentityAsUsername: f.requireCertificate && f.useIdentityAsUsername,
      } : null,
    },
    problems,
  };
};

/** "127.0.0.1", "interface lo", "all interfaces". */
export const bindText = (l: Pick<Listener, 'address' | 'bindInterface'>): string =>
  l.address ?? (l.bindInterface ? `interface ${l.bindInterface}` : 'all interfaces');

/** "TLS 1.2+ (broker), client cert (plant-ca) as username" or "none". */
export const tlsText = (l: Pick<Listener, 'tls'>): string => {
  const t = l.tls;
  if (!t) return 'none';
  const parts = [`TLS ${t.minVersion === 'tlsv1.3' ? '1.3' : '1.2+'} (${t.certificate})`];
  if (t.requireCertificate) parts.push(`client certificate required${t.ca ? ` (${t.ca})` : ''}${t.useIdentityAsUsername ? ', CN as username' : ''}`);
  else if (t.ca) parts.push(`CA ${t.ca}`);
  return parts.join(', ');
};

// ---- bridges --------------------------------------------------------------------------------

export type TopicRow = { pattern: string; direction: BridgeTopic['direction']; qos: '0' | '1' | '2'; localPrefix: string; remotePrefix: string };

export type BridgeForm = {
  name: string;
  /** `host:port`, one per line (or separated by commas or spaces); port 1883 when left out. */
  addresses: string;
  remoteUsername: string;
  /** Write-only: empty keeps the stored password. */
  password: string;
  removePassword: boolean;
  /** The server has a password for this bridge (shown as "stored"). */
  hasRemotePassword: boolean;
  remoteClientId: string;
  tls: boolean;
  tlsCa: string;
  tlsCertificate: string;
  tlsVersion: '' | TlsVersion;
  cleansession: boolean;
  keepalive: string;
  topics: TopicRow[];
};

export const emptyTopicRow = (): TopicRow => ({ pattern: '', direction: 'both', qos: '0', localPrefix: '', remotePrefix: '' });

export const bridgeForm = (b?: BridgeDraft): BridgeForm => ({
  name: b?.name ?? '',
  addresses: (b?.addresses ?? []).map((a) => `${a.host}:${a.port}`).join('\n'),
  remoteUsername: b?.remoteUsername ?? '',
  password: typeof b?.remotePassword === 'string' ? b.remotePassword : '',
  removePassword: b?.remotePassword === null,
  hasRemotePassword: b?.hasRemotePassword ?? false,
  remoteClientId: b?.remoteClientId ?? '',
  tls: b?.tls !== null && b?.tls !== undefined,
  tlsCa: b?.tls?.ca ?? '',
  tlsCertificate: b?.tls?.certificate ?? '',
  tlsVersion: b?.tls?.version ?? '',
  cleansession: b?.cleansession ?? false,
  keepalive: String(b?.keepalive ?? 60),
  topics: b && b.topics.length > 0 ? b.topics.map((t) => ({ ...t, qos: String(t.qos) as TopicRow['qos'] })) : [emptyTopicRow()],
});

/** `host:port` entries; `[v6]:port` for an IPv6 address. */
export const parseAddresses = (text: string): { addresses: { host: string; port: number }[]; problem: string | null } => {
  const addresses: { host: string; port: number }[] = [];
  for (const item of text.split(/[\s,]+/).filter(Boolean)) {
    const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(item) ?? /^([^:]+)(?::(\d+))?$/.exec(item) ?? /^([0-9A-Fa-f:]+)()$/.exec(item);
    const port = m?.[2] ? Number(m[2]) : 1883;
    if (!m || !m[1] || port < 1 || port > 65_535) return { addresses: [], problem: `"${item}" is not host:port` };
    addresses.push({ host: m[1], port });
  }
  return { addresses, problem: addresses.length === 0 ? 'at least one host:port' : null };
};

/** The bridge a form describes (keeping, replacing or removing the stored password), or its problems. */
export const bridgeFromForm = (f: BridgeForm): { bridge: BridgeDraft | null; problems: Problems } => {
  const problems: Problems = {};
  const name = f.name.trim();
  if (name === '') problems['name'] = 'required';
  const { addresses, problem } = parseAddresses(f.addresses);
  if (problem) problems['addresses'] = problem;
  const keepalive = intField(f.keepalive, 5, 65_535, 'keepalive', problems, false);
  if (f.tls && f.tlsCa === '') problems['tls.ca'] = 'choose the CA that verifies the remote broker';
  const topics = f.topics.filter((t) => t.pattern.trim() !== '' || t.localPrefix !== '' || t.remotePrefix !== '');
  if (topics.length === 0) problems['topics'] = 'at least one topic line';
  const remoteUsername = f.remoteUsername.trim() || null;
  if (f.password !== '' && remoteUsername === null) problems['remoteUsername'] = 'a remote password needs a remote username';
  if (Object.keys(problems).length > 0 || keepalive === null) return { bridge: null, problems };
  const bridge: BridgeDraft = {
    name, addresses, remoteUsername, hasRemotePassword: f.hasRemotePassword,
    remoteClientId: f.remoteClientId.trim() || null,
    tls: f.tls ? { ca: f.tlsCa, certificate: f.tlsCertificate || null, version: f.tlsVersion || null } : null,
    topics: topics.map((t) => ({ pattern: t.pattern.trim(), direction: t.direction, qos: Number(t.qos) as 0 | 1 | 2, localPrefix: t.localPrefix.trim(), remotePrefix: t.remotePrefix.trim() })),
    cleansession: f.cleansession, keepalive,
  };
  if (f.password !== '') bridge.remotePassword = f.password;
  else if (f.removePassword && f.hasRemotePassword) bridge.remotePassword = null;
  return { bridge, problems };
};

/** "plant/# both 1 local/ remote/" — a topic line as mosquitto.conf reads it. */
export const topicText = (t: BridgeTopic): string =>
  `${t.pattern === '' ? '""' : t.pattern} ${t.direction} ${t.qos}${t.localPrefix || t.remotePrefix ? ` ${t.localPrefix || '""'} ${t.remotePrefix || '""'}` : ''}`;

// ---- global options (catalog) ---------------------------------------------------------------

/** The catalog's global directives (listener ones are edited with the listener). */
export const globalOptions = (catalog: readonly Directive[]): Directive[] => catalog.filter((d) => d.scope === 'global');

/** "on / off", "whole number 0–86,400", "any of error, warning, …". */
export const kindText = (d: Directive): string => {
  const k = d.kind;
  if (k.type === 'bool') return 'true / false';
  if (k.type === 'int') return `whole number ${k.min.toLocaleString('en-US')}–${k.max.toLocaleString('en-US')}`;
  return `any of ${k.values.join(', ')}`;
};

/** The broker's default for this version, in words. */
export const defaultText = (d: Directive, version: '2.0' | '2.1'): string => {
  const v = d.defaults[version];
  return v === null || v === undefined ? 'none (unlimited)' : typeof v === 'number' ? v.toLocaleString('en-US') : String(v);
};

/** An option's input as typed: '' is "not set" (the default applies); otherwise the value or a problem. */
export const optionFromText = (d: Directive, text: string): { value: OptionValue | undefined; problem: string | null } => {
  const t = text.trim();
  if (t === '') return { value: undefined, problem: null };
  const k = d.kind;
  if (k.type === 'bool') return t === 'true' || t === 'false' ? { value: t === 'true', problem: null } : { value: undefined, problem: 'true or false' };
  if (k.type === 'int') {
    const n = Number(t);
    return INT.test(t) && n >= k.min && n <= k.max ? { value: n, problem: null } : { value: undefined, problem: `a whole number from ${k.min.toLocaleString('en-US')} to ${k.max.toLocaleString('en-US')}` };
  }
  const items = [...new Set(t.split(/[\s,]+/).filter(Boolean))];
  const bad = items.filter((x) => !k.values.includes(x));
  return bad.length > 0 ? { value: undefined, problem: `not one of ${k.values.join(', ')}: ${bad.join(', ')}` } : { value: items, problem: null };
};

/** An option's value as its input shows it ('' when not set). */
export const optionText = (v: OptionValue | undefined): string =>
  v === undefined ? '' : Array.isArray(v) ? v.join(' ') : String(v);
