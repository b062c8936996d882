/**
 * Validates a whole broker configuration before any event is appended (issue "Broker
 * configuration as events"): every problem is collected, with the field path, into one
 * MCM_ERR_BROKER_CONFIG_INVALID. Values that mosquitto.conf would split or misread (it splits on
 * spaces and reads `#` in column 1 as a comment, reference §7) are refused rather than escaped:
 * the file has no quoting.
 */
import { DomainError, ERROR_CODES, type ErrorDetail } from '../errors.ts';
import { show } from '../decide/guards.ts';
import { isReservedTopic, topicFilterProblem } from '../topic-filter.ts';
import {
  BRIDGE_DIRECTIONS, TLS_VERSIONS, type Bridge, type BridgeTopic, type BrokerConfigModel, type Certificate, type Listener,
  type ListenerTls, type OptionValue, type TlsVersion,
} from './model.ts';
import { BRIDGE_DIRECTIVES, GLOBAL_DIRECTIVES, LISTENER_DIRECTIVES, MCM_OWNED, globalDirective, type BrokerVersion } from './catalog.ts';

export type ConfigContext = Readonly<{
  certificates: Readonly<Record<string, Certificate>>;
  /** Ports MCM's own listeners use (its control listener, its websockets listener): not for operator listeners. */
  reservedPorts: readonly number[];
  version: BrokerVersion;
}>;

export const MAX_LISTENERS = 32;
export const MAX_BRIDGES = 32;
export const MAX_BRIDGE_TOPICS = 100;
export const MAX_PASSTHROUGH_LINES = 1000;
const NAME = /^[a-z0-9][a-z0-9-]{0,31}$/;
const BRIDGE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const INTERFACE = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,14}$/;
const HOST = /^[A-Za-z0-9]([A-Za-z0-9.-]{0,252}[A-Za-z0-9])?$/;
/** A word mosquitto.conf can carry: no whitespace, no control characters, not starting with '#'. */
const WORD = /^[^\s#\p{Cc}][^\s\p{Cc}]{0,255}$/u;
const SECRET_REF = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
/** Loose IPv6 literal check: hex groups and colons, at most one `::`. */
const isIpv6 = (s: string): boolean => /^[0-9A-Fa-f:.]{2,45}$/.test(s) && s.includes(':') && (s.match(/::/g) ?? []).length <= 1;
export const isIpAddress = (s: string): boolean => IPV4.test(s) || isIpv6(s);

type Problems = ErrorDetail[];

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const isInt = (v: unknown, min: number, max: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;

const unknownKeys = (o: Record<string, unknown>, allowed: readonly string[], at: string, out: Problems): void => {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) out.push({ field: `${at}.${k}`, message: `unknown field ${show(k)}` });
};

const optString = (v: unknown, field: string, re: RegExp, what: string, out: Problems): string | null => {
  if (v === null || v === undefined || v === '') return null;
  if (typeof v !== 'string' || !re.test(v)) { out.push({ field, value: v, message: `${field} must be ${what} (got ${show(v)})` }); return null; }
  return v;
};

const certificateRef = (v: unknown, field: string, ctx: ConfigContext, need: { key?: boolean; ca?: boolean }, out: Problems): string | null => {
  if (typeof v !== 'string' || v === '') { out.push({ field, value: v, message: `${field} must name a certificate` }); return null; }
  const cert = Object.hasOwn(ctx.certificates, v) ? ctx.certificates[v] : undefined; // own keys only ("constructor" is a valid name)
  if (!cert) { out.push({ field, value: v, message: `${field}: no certificate named ${show(v)} (add it with mcm certs add)` }); return null; }
  if (need.key && !cert.hasKey) out.push({ field, value: v, message: `${field}: certificate ${show(v)} has no private key` });
  if (need.ca && !cert.isCa) out.push({ field, value: v, message: `${field}: certificate ${show(v)} is not a CA certificate (basicConstraints CA:TRUE)` });
  return v;
};

const tlsOf = (v: unknown, at: string, ctx: ConfigContext, out: Problems): ListenerTls | null => {
  if (v === null || v === undefined) return null;
  if (!isObject(v)) { out.push({ field: at, message: `${at} must be an object or null` }); return null; }
  unknownKeys(v, ['certificate', 'ca', 'minVersion', 'requireCertificate', 'useIdentityAsUsername'], at, out);
  const certificate = certificateRef(v.certificate, `${at}.certificate`, ctx, { key: true }, out) ?? '';
  const ca = v.ca === null || v.ca === undefined ? null : certificateRef(v.ca, `${at}.ca`, ctx, { ca: true }, out);
  const minVersion = v.minVersion ?? 'tlsv1.2';
  if (!(TLS_VERSIONS as readonly unknown[]).includes(minVersion)) out.push({ field: `${at}.minVersion`, value: minVersion, message: `${at}.minVersion must be one of ${TLS_VERSIONS.join(', ')}` });
  const requireCertificate = v.requireCertificate ?? false;
  const useIdentityAsUsername = v.useIdentityAsUsername ?? false;
  if (typeof requireCertificate !== 'boolean') out.push({ field: `${at}.requireCertificate`, message: 'must be true or false' });
  if (typeof useIdentityAsUsername !== 'boolean') out.push({ field: `${at}.useIdentityAsUsername`, message: 'must be true or false' });
  if (requireCertificate === true && ca === null) out.push({ field: `${at}.ca`, message: `${at}: requireCertificate needs a CA (client certificates are checked against it)` });
  if (useIdentityAsUsername === true && requireCertificate !== true) out.push({ field: `${at}.useIdentityAsUsername`, message: `${at}: useIdentityAsUsername needs requireCertificate (without a client certificate there is no identity)` });
  return { certificate, ca, minVersion: minVersion as ListenerTls['minVersion'], requireCertificate: requireCertificate === true, useIdentityAsUsername: useIdentityAsUsername === true };
};

const listenerOf = (v: unknown, i: number, ctx: ConfigContext, out: Problems): Listener | null => {
  const at = `listeners[${i}]`;
  if (!isObject(v)) { out.push({ field: at, message: `${at} must be an object` }); return null; }
  unknownKeys(v, ['name', 'port', 'protocol', 'address', 'bindInterface', 'tls', 'maxConnections'], at, out);
  const name = typeof v.name === 'string' && NAME.test(v.name) ? v.name : null;
  if (name === null) out.push({ field: `${at}.name`, value: v.name, message: `${at}.name must be 1–32 of a-z, 0-9 and '-', starting with a letter or digit` });
  if (!isInt(v.port, 1, 65_535)) out.push({ field: `${at}.port`, value: v.port, message: `${at}.port must be a TCP port 1–65535` });
  else if (ctx.reservedPorts.includes(v.port)) out.push({ field: `${at}.port`, value: v.port, message: `${at}.port ${v.port} is MCM's own listener (set in MCM's configuration, mosquitto.port / websockets_port)` });
  const protocol = v.protocol ?? 'mqtt';
  if (protocol !== 'mqtt' && protocol !== 'websockets') out.push({ field: `${at}.protocol`, value: protocol, message: `${at}.protocol must be mqtt or websockets` });
  const address = optString(v.address, `${at}.address`, /^[0-9A-Fa-f.:]{2,45}$/, 'an IP address', out);
  if (address !== null && !isIpAddress(address)) out.push({ field: `${at}.address`, value: address, message: `${at}.address must be an IP address (got ${show(address)})` });
  const bindInterface = optString(v.bindInterface, `${at}.bindInterface`, INTERFACE, 'a network interface name (e.g. lo, eth0)', out);
  if (address !== null && bindInterface !== null) out.push({ field: `${at}.bindInterface`, message: `${at}: give an address or an interface, not both` });
  // reference §7 / eclipse/mosquitto#3045: a websockets listener ignores an IP address and binds
  // every interface, so an operator asking for 127.0.0.1 would silently get 0.0.0.0.
  if (protocol === 'websockets' && address !== null) {
    out.push({ field: `${at}.address`, value: address, message: `${at}: a websockets listener ignores an IP address in Mosquitto ${ctx.version} and binds every interface (eclipse/mosquitto#3045): bind an interface instead (bindInterface, e.g. lo)` });
  }
  const tls = tlsOf(v.tls, `${at}.tls`, ctx, out);
  const maxConnections = v.maxConnections ?? null;
  if (maxConnections !== null && !isInt(maxConnections, 1, 2_147_483_647)) out.push({ field: `${at}.maxConnections`, value: maxConnections, message: `${at}.maxConnections must be a whole number ≥ 1, or null for unlimited` });
  if (name === null || !isInt(v.port, 1, 65_535)) return null;
  return { name, port: v.port, protocol: protocol === 'websockets' ? 'websockets' : 'mqtt', address, bindInterface, tls, maxConnections: maxConnections as number | null };
};

const optionOf = (name: string, value: unknown, out: Problems): OptionValue | null => {
  const field = `options.${name}`;
  const d = globalDirective(name);
  if (!d) {
    const hint = MCM_OWNED.has(name) ? 'MCM sets it itself' : 'not a directive MCM manages: keep it in passthrough';
    out.push({ field, value: name, message: `${field}: ${hint} (managed: ${GLOBAL_DIRECTIVES.map((g) => g.name).join(', ')})` });
    return null;
  }
  const k = d.kind;
  if (k.type === 'bool') {
    if (typeof value !== 'boolean') { out.push({ field, value, message: `${field} must be true or false` }); return null; }
    return value;
  }
  if (k.type === 'int') {
    if (!isInt(value, k.min, k.max)) { out.push({ field, value, message: `${field} must be a whole number from ${k.min} to ${k.max} (got ${show(value)})` }); return null; }
    return value;
  }
  const list = typeof value === 'string' ? value.split(/[\s,]+/).filter(Boolean) : value;
  if (!Array.isArray(list) || list.some((x) => typeof x !== 'string' || !k.values.includes(x))) {
    out.push({ field, value, message: `${field} must be a list of ${k.values.join(', ')}` });
    return null;
  }
  return [...new Set(list as string[])].sort((a, b) => k.values.indexOf(a) - k.values.indexOf(b));
};

const topicOf = (v: unknown, at: string, out: Problems): BridgeTopic | null => {
  if (!isObject(v)) { out.push({ field: at, message: `${at} must be an object` }); return null; }
  unknownKeys(v, ['pattern', 'direction', 'qos', 'localPrefix', 'remotePrefix'], at, out);
  const localPrefix = v.localPrefix ?? '';
  const remotePrefix = v.remotePrefix ?? '';
  for (const [k, p] of [['localPrefix', localPrefix], ['remotePrefix', remotePrefix]] as const) {
    if (typeof p !== 'string' || (p !== '' && (!WORD.test(p) || /[+#]/.test(p)))) out.push({ field: `${at}.${k}`, value: p, message: `${at}.${k} must be a topic prefix without spaces or wildcards` });
  }
  const pattern = v.pattern ?? '';
  if (typeof pattern !== 'string') out.push({ field: `${at}.pattern`, message: `${at}.pattern must be a string` });
  else if (pattern === '') {
    // mosquitto.conf(5): an empty pattern ("") is allowed only with both prefixes, which then name the topic.
    if (localPrefix === '' || remotePrefix === '') out.push({ field: `${at}.pattern`, message: `${at}.pattern may be empty only when both prefixes are set` });
  } else {
    const p = topicFilterProblem(pattern);
    if (p !== null || /\s/.test(pattern)) out.push({ field: `${at}.pattern`, value: pattern, message: `${at}.pattern ${p ?? 'must not contain spaces (mosquitto.conf splits on them)'}` });
    else if (isReservedTopic(pattern)) out.push({ field: `${at}.pattern`, value: pattern, message: `${at}.pattern: $mcm is MCM's own topic space` });
  }
  const direction = v.direction ?? 'both';
  if (!(BRIDGE_DIRECTIONS as readonly unknown[]).includes(direction)) out.push({ field: `${at}.direction`, value: direction, message: `${at}.direction must be in, out or both` });
  const qos = v.qos ?? 0;
  if (qos !== 0 && qos !== 1 && qos !== 2) out.push({ field: `${at}.qos`, value: qos, message: `${at}.qos must be 0, 1 or 2` });
  return { pattern: typeof pattern === 'string' ? pattern : '', direction: direction as BridgeTopic['direction'], qos: qos as 0 | 1 | 2, localPrefix: String(localPrefix), remotePrefix: String(remotePrefix) };
};

const bridgeOf = (v: unknown, i: number, ctx: ConfigContext, out: Problems): Bridge | null => {
  const at = `bridges[${i}]`;
  if (!isObject(v)) { out.push({ field: at, message: `${at} must be an object` }); return null; }
  unknownKeys(v, ['name', 'addresses', 'remoteUsername', 'remotePasswordRef', 'remoteClientId', 'tls', 'topics', 'cleansession', 'keepalive'], at, out);
  const name = typeof v.name === 'string' && BRIDGE_NAME.test(v.name) ? v.name : null;
  if (name === null) out.push({ field: `${at}.name`, value: v.name, message: `${at}.name must be 1–64 of letters, digits, '_', '.', '-'` });
  const addresses: Bridge['addresses'] = [];
  if (!Array.isArray(v.addresses) || v.addresses.length === 0 || v.addresses.length > 8) out.push({ field: `${at}.addresses`, message: `${at}.addresses must list 1–8 {host, port}` });
  else v.addresses.forEach((a: unknown, j) => {
    const f = `${at}.addresses[${j}]`;
    if (!isObject(a) || typeof a.host !== 'string' || !(HOST.test(a.host) || isIpAddress(a.host))) { out.push({ field: `${f}.host`, message: `${f}.host must be a host name or IP address` }); return; }
    const port = a.port ?? 1883;
    if (!isInt(port, 1, 65_535)) { out.push({ field: `${f}.port`, value: port, message: `${f}.port must be a TCP port` }); return; }
    addresses.push({ host: a.host, port });
  });
  const remoteUsername = optString(v.remoteUsername, `${at}.remoteUsername`, WORD, 'a username without spaces', out);
  const remotePasswordRef = optString(v.remotePasswordRef, `${at}.remotePasswordRef`, SECRET_REF, 'a secret reference', out);
  if (remotePasswordRef !== null && remoteUsername === null) out.push({ field: `${at}.remotePasswordRef`, message: `${at}: a remote password needs a remote username` });
  const remoteClientId = optString(v.remoteClientId, `${at}.remoteClientId`, WORD, 'a client id without spaces', out);
  let tls: Bridge['tls'] = null;
  if (v.tls !== null && v.tls !== undefined) {
    const tf = `${at}.tls`;
    if (!isObject(v.tls)) out.push({ field: tf, message: `${tf} must be an object or null` });
    else {
      unknownKeys(v.tls, ['ca', 'certificate', 'version'], tf, out);
      const ca = certificateRef(v.tls.ca, `${tf}.ca`, ctx, {}, out) ?? '';
      const certificate = v.tls.certificate === null || v.tls.certificate === undefined ? null : certificateRef(v.tls.certificate, `${tf}.certificate`, ctx, { key: true }, out);
      const version = v.tls.version ?? null;
      if (version !== null && !(TLS_VERSIONS as readonly unknown[]).includes(version)) out.push({ field: `${tf}.version`, value: version, message: `${tf}.version must be one of ${TLS_VERSIONS.join(', ')}` });
      tls = { ca, certificate, version: version as TlsVersion | null };
    }
  }
  const topics: BridgeTopic[] = [];
  if (!Array.isArray(v.topics) || v.topics.length === 0 || v.topics.length > MAX_BRIDGE_TOPICS) out.push({ field: `${at}.topics`, message: `${at}.topics must list 1–${MAX_BRIDGE_TOPICS} topic lines` });
  else v.topics.forEach((t: unknown, j) => { const x = topicOf(t, `${at}.topics[${j}]`, out); if (x) topics.push(x); });
  const cleansession = v.cleansession ?? false;
  if (typeof cleansession !== 'boolean') out.push({ field: `${at}.cleansession`, message: 'must be true or false' });
  const keepalive = v.keepalive ?? 60;
  if (!isInt(keepalive, 5, 65_535)) out.push({ field: `${at}.keepalive`, value: keepalive, message: `${at}.keepalive must be 5–65535 seconds` });
  if (name === null) return null;
  return { name, addresses, remoteUsername, remotePasswordRef, remoteClientId, tls, topics, cleansession: cleansession === true, keepalive: keepalive as number };
};

const MANAGED_WORDS = new Set([
  ...GLOBAL_DIRECTIVES.map((d) => d.name), ...LISTENER_DIRECTIVES.map((d) => d.name), ...BRIDGE_DIRECTIVES, ...MCM_OWNED,
]);

const passthroughOf = (v: unknown, out: Problems): string[] => {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.length > MAX_PASSTHROUGH_LINES) { out.push({ field: 'passthrough', message: `passthrough must be a list of at most ${MAX_PASSTHROUGH_LINES} lines` }); return []; }
  const lines: string[] = [];
  v.forEach((l: unknown, i) => {
    const field = `passthrough[${i}]`;
    if (typeof l !== 'string' || /[\r\n\0]/.test(l) || l.length > 4096) { out.push({ field, message: `${field} must be one line of at most 4096 characters` }); return; }
    const word = l.trim().split(/\s+/)[0] ?? '';
    if (word !== '' && !l.startsWith('#') && MANAGED_WORDS.has(word)) {
      out.push({ field, value: l.slice(0, 100), message: `${field}: ${word} is managed by MCM (${MCM_OWNED.has(word) ? 'it sets it itself' : 'use the listeners, options or bridges of the configuration'}), not in passthrough` });
      return;
    }
    lines.push(l);
  });
  return lines;
};

const duplicates = <T>(items: readonly T[], key: (x: T) => string | number, what: string, field: string, out: Problems): void => {
  const seen = new Set<string | number>();
  for (const x of items) {
    const k = key(x);
    if (seen.has(k)) out.push({ field, value: k, message: `two ${what} ${show(k)}` });
    seen.add(k);
  }
};

/** The configuration, normalised (defaults filled in), or MCM_ERR_BROKER_CONFIG_INVALID listing every problem. */
export const validateBrokerConfig = (input: unknown, ctx: ConfigContext): BrokerConfigModel => {
  const out: Problems = [];
  if (!isObject(input)) throw new DomainError(ERROR_CODES.BROKER_CONFIG_INVALID, 'the broker configuration must be an object {listeners, options, bridges, passthrough}', [{ field: 'config' }]);
  unknownKeys(input, ['listeners', 'options', 'bridges', 'passthrough'], 'config', out);
  const listeners: Listener[] = [];
  const rawListeners = input.listeners ?? [];
  if (!Array.isArray(rawListeners) || rawListeners.length > MAX_LISTENERS) out.push({ field: 'listeners', message: `listeners must be a list of at most ${MAX_LISTENERS}` });
  else rawListeners.forEach((l: unknown, i) => { const x = listenerOf(l, i, ctx, out); if (x) listeners.push(x); });
  duplicates(listeners, (l) => l.name, 'listeners named', 'listeners', out);
  duplicates(listeners, (l) => l.port, 'listeners on port', 'listeners', out);
  const options: Record<string, OptionValue> = {};
  const rawOptions = input.options ?? {};
  if (!isObject(rawOptions)) out.push({ field: 'options', message: 'options must be an object of directive: value' });
  else for (const name of Object.keys(rawOptions).sort()) {
    const value = optionOf(name, rawOptions[name], out);
    if (value !== null) options[name] = value;
  }
  const bridges: Bridge[] = [];
  const rawBridges = input.bridges ?? [];
  if (!Array.isArray(rawBridges) || rawBridges.length > MAX_BRIDGES) out.push({ field: 'bridges', message: `bridges must be a list of at most ${MAX_BRIDGES}` });
  else rawBridges.forEach((b: unknown, i) => { const x = bridgeOf(b, i, ctx, out); if (x) bridges.push(x); });
  duplicates(bridges, (b) => b.name, 'bridges named', 'bridges', out);
  const passthrough = passthroughOf(input.passthrough, out);
  if (out.length > 0) {
    const first = String(out[0]?.message ?? 'invalid');
    throw new DomainError(ERROR_CODES.BROKER_CONFIG_INVALID, out.length === 1 ? first : `${first} (and ${out.length - 1} more problems)`, out.slice(0, 200));
  }
  return { listeners, options, bridges, passthrough };
};
