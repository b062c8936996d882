/**
 * The managed listener and bridge lines of a mosquitto.conf (parse-broker-conf.ts), each read as
 * src/conf.c reads it: a path or name is the rest of the line (conf__parse_string, a second one
 * refused), a number C atoi of the next word, a boolean true/1 or false/0. Pure.
 */
import { atoi, boolOf } from './conf-options.ts';
import type { BridgeDraft, ConfOrigin, ListenerDraft, Report } from './conf-drafts.ts';
import { spaceToken } from './lines.ts';

/** A bridge address `host[:port]`, split at the last ':' as conf.c does (port 1883 when absent). */
const addressOf = (token: string): { host: string; port: number } | string => {
  const at = token.lastIndexOf(':');
  if (at < 0) return { host: token, port: 1883 };
  const port = atoi(token.slice(at + 1));
  if (port < 1 || port > 65_535) return `invalid port in bridge address ${JSON.stringify(token)}`;
  return { host: token.slice(0, at), port };
};

/** `topic pattern [direction [qos [local_prefix [remote_prefix]]]]`; `""` is empty; direction defaults to out (conf.c). */
const topicLine = (r: Report, b: BridgeDraft, w: string[], origin: ConfOrigin): void => {
  const [pattern, direction, qos, local, remote] = w;
  if (pattern === undefined) return r.problem(origin, 'topic without a pattern');
  const dir = direction === undefined ? 'out' : direction.toLowerCase();
  if (dir !== 'in' && dir !== 'out' && dir !== 'both') return r.problem(origin, `invalid bridge topic direction ${JSON.stringify(direction)} (in, out or both)`);
  const q = qos === undefined || qos.startsWith('#') ? 0 : atoi(qos);
  if (q < 0 || q > 2) return r.problem(origin, `invalid bridge topic QoS ${JSON.stringify(qos)} (0, 1 or 2)`);
  const commented = qos?.startsWith('#') === true;
  const prefix = (p: string | undefined): string => (p === undefined || p === '""' || p.startsWith('#') ? '' : p);
  const localPrefix = commented ? '' : prefix(local);
  const remotePrefix = commented || local?.startsWith('#') ? '' : prefix(remote);
  b.topics.push({ pattern: pattern === '""' ? '' : pattern, direction: dir, qos: q as 0 | 1 | 2, localPrefix, remotePrefix });
};

/** A managed listener line (LISTENER_MANAGED) on `d`: the listener it applies to, as the broker picks it. */
export const listenerLine = (r: Report, word: string, d: ListenerDraft, label: string, token: string | null, rest: string, origin: ConfOrigin): void => {
  const once = (key: 'certfile' | 'keyfile' | 'cafile' | 'tlsVersion' | 'bindInterface'): boolean => {
    if (rest === '') { r.problem(origin, `${word} without a value`); return false; }
    // conf__parse_string: a second value of the same listener stops the broker.
    if (d[key] !== null) { r.problem(origin, `a second ${word} on ${label} (the broker refuses a duplicate)`); return false; }
    d[key] = { value: rest, origin };
    return true;
  };
  switch (word) {
    case 'certfile': case 'keyfile': case 'cafile': once(word); return;
    case 'tls_version': once('tlsVersion'); return;
    case 'bind_interface': once('bindInterface'); return;
    case 'protocol':
      if (token === 'mqtt' || token === 'websockets') d.protocol = token;
      else r.problem(origin, `protocol ${JSON.stringify(token ?? '')} on ${label}: MCM manages mqtt and websockets listeners`);
      return;
    case 'max_connections': {
      if (token === null) return;
      const n = atoi(token);
      if (n === 0) r.problem(origin, `max_connections 0 on ${label} refuses every client: MCM needs at least 1 (or -1 for unlimited)`);
      else d.maxConnections = n < 0 ? null : n;
      return;
    }
    default: {
      const b = boolOf(token);
      if (b === null) return r.problem(origin, `${word} must be true or false (got ${JSON.stringify(token ?? '')})`);
      if (word === 'require_certificate') d.requireCertificate = { value: b, origin };
      else d.useIdentityAsUsername = { value: b, origin };
    }
  }
};

/** A managed bridge line (BRIDGE_MANAGED) on `b`; `after` is where the words after the directive start. */
export const bridgeLine = (r: Report, word: string, b: BridgeDraft, line: string, after: number, token: string | null, rest: string, origin: ConfOrigin): void => {
  const words = (): string[] => {
    const out: string[] = [];
    for (let t = spaceToken(line, after); t !== null; t = spaceToken(line, t.next)) out.push(t.token);
    return out;
  };
  const text = (set: (v: string) => void): void => { if (rest === '') r.problem(origin, `${word} without a value`); else set(rest); };
  const file = (key: 'cafile' | 'certfile' | 'keyfile' | 'tlsVersion'): void => {
    if (b[key] !== null) return r.problem(origin, `a second ${word} on bridge ${b.name} (the broker refuses a duplicate)`);
    text((v) => { b[key] = { value: v, origin }; });
  };
  switch (word) {
    case 'address': {
      if (b.addresses !== null) return r.problem(origin, `a second address line on bridge ${b.name} (the broker refuses it: list every address on one line)`);
      const addresses: { host: string; port: number }[] = [];
      for (const w of words()) {
        if (w.startsWith('#')) break;
        const a = addressOf(w);
        if (typeof a === 'string') return r.problem(origin, a);
        addresses.push(a);
      }
      if (addresses.length === 0) return r.problem(origin, 'address without a host');
      b.addresses = addresses;
      return;
    }
    case 'remote_username': return text((v) => { b.remoteUsername = v; });
    case 'remote_clientid': return text((v) => { b.remoteClientId = v; });
    case 'remote_password': return text((v) => { b.password = { value: v, origin }; });
    case 'bridge_cafile': return file('cafile');
    case 'bridge_certfile': return file('certfile');
    case 'bridge_keyfile': return file('keyfile');
    case 'bridge_tls_version': return file('tlsVersion');
    case 'cleansession': {
      const v = boolOf(token);
      if (v === null) return r.problem(origin, `cleansession must be true or false (got ${JSON.stringify(token ?? '')})`);
      b.cleansession = v;
      return;
    }
    case 'keepalive_interval': {
      if (token === null) return r.problem(origin, 'keepalive_interval without a value');
      const n = atoi(token);
      if (n > 65_535) return r.problem(origin, `keepalive_interval ${n} is too high (at most 65535)`);
      b.keepalive = Math.max(n, 5); // conf.c: "keepalive interval too low, using 5 seconds"
      return;
    }
    default: return topicLine(r, b, words(), origin);
  }
};
