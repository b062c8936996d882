/**
 * The Broker screen's data (issue 13, "Broker configuration as events"): GET /broker/config and
 * the certificates read and checked, a draft of the configuration edited in the page (listeners,
 * options, bridges; passthrough kept as read), the preview (diff, changes, restart and the
 * clients it drops) and the confirmed change, sent with the preview's seq in If-Match. Refusals
 * are outcomes, not exceptions: the core's `details[].field` (`listeners[1].port`) are mapped to
 * the row and the field they belong to.
 * No DOM: tested against the real HTTP app in tests/ui/broker-model.test.ts. The shapes are the
 * core's own types (type-only imports: nothing of the server is bundled).
 */
import { ApiError, type ApiClient } from './api-client.ts';
import { seqFromEtag } from './access-apply.ts';
import { fetchAll, type Page } from './access-model.ts';
import type { Bridge, Listener, OptionValue } from '../../core/broker-config/model.ts';
import type { BrokerVersion, Directive } from '../../core/broker-config/catalog.ts';
import type { ConfigChange } from '../../core/broker-config/changes.ts';

export type { BridgeTopic, Listener, ListenerTls, OptionValue, TlsVersion } from '../../core/broker-config/model.ts';
export type { BrokerVersion, Directive } from '../../core/broker-config/catalog.ts';
export type { ConfigChange } from '../../core/broker-config/changes.ts';

/** A bridge as the API shows it: whether a password is stored, never the password or its reference. */
export type BridgeView = Omit<Bridge, 'remotePasswordRef'> & { hasRemotePassword: boolean };
/** A bridge in the draft: `remotePassword` absent keeps the stored one, null removes it, a string replaces it. */
export type BridgeDraft = BridgeView & { remotePassword?: string | null };

export type BrokerConfigDraft = {
  listeners: Listener[];
  options: Record<string, OptionValue>;
  bridges: BridgeDraft[];
  passthrough: string[];
};

export type BrokerConfigView = {
  config: BrokerConfigDraft;
  /** false in external mode: MCM does not write this broker's mosquitto.conf. */
  managed: boolean;
  version: BrokerVersion;
  /** Ports of MCM's own listeners (not the operator's to change). */
  reservedPorts: number[];
  /** mosquitto.conf as MCM writes it now (bridge passwords as ********); null when unmanaged. */
  rendered: string | null;
  catalog: Directive[];
  /** The state's seq when read (ETag). */
  seq: number | null;
};

/** GET /certificates items (adapters/certs/certificate-view.ts; never a PEM or a key). */
export type CertificateView = {
  name: string;
  fingerprint: string;
  subject: string;
  issuer: string;
  not_before: string;
  not_after: string;
  subject_alt_name: string;
  is_ca: boolean;
  has_key: boolean;
  ca: string | null;
  added_at: string;
  expires_in_days: number;
  uses: string[];
};

export type BrokerPreview = {
  seq: number;
  changes: ConfigChange[];
  restartNeeded: boolean;
  clientsConnected: number | null;
  clientsDropped: number | null;
  diff: string;
  rendered: string;
};

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const strOrNull = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

const listenerOf = (v: Rec): Listener => {
  const tls = isRec(v['tls']) ? v['tls'] : null;
  return {
    name: String(v['name'] ?? ''),
    port: isInt(v['port']) ? v['port'] : 0,
    protocol: v['protocol'] === 'websockets' ? 'websockets' : 'mqtt',
    address: strOrNull(v['address']),
    bindInterface: strOrNull(v['bindInterface']),
    tls: tls === null ? null : {
      certificate: String(tls['certificate'] ?? ''),
      ca: strOrNull(tls['ca']),
      minVersion: tls['minVersion'] === 'tlsv1.3' ? 'tlsv1.3' : 'tlsv1.2',
      requireCertificate: tls['requireCertificate'] === true,
      useIdentityAsUsername: tls['useIdentityAsUsername'] === true,
    },
    maxConnections: isInt(v['maxConnections']) ? v['maxConnections'] : null,
  };
};

const bridgeOf = (v: Rec): BridgeDraft => {
  const tls = isRec(v['tls']) ? v['tls'] : null;
  return {
    name: String(v['name'] ?? ''),
    addresses: list(v['addresses']).filter(isRec).map((a) => ({ host: String(a['host'] ?? ''), port: isInt(a['port']) ? a['port'] : 1883 })),
    remoteUsername: strOrNull(v['remoteUsername']),
    hasRemotePassword: v['hasRemotePassword'] === true,
    remoteClientId: strOrNull(v['remoteClientId']),
    tls: tls === null ? null : {
      ca: String(tls['ca'] ?? ''),
      certificate: strOrNull(tls['certificate']),
      version: tls['version'] === 'tlsv1.2' || tls['version'] === 'tlsv1.3' ? tls['version'] : null,
    },
    topics: list(v['topics']).filter(isRec).map((t) => ({
      pattern: String(t['pattern'] ?? ''),
      direction: t['direction'] === 'in' || t['direction'] === 'out' ? t['direction'] : 'both',
      qos: t['qos'] === 1 || t['qos'] === 2 ? t['qos'] : 0,
      localPrefix: String(t['localPrefix'] ?? ''),
      remotePrefix: String(t['remotePrefix'] ?? ''),
    })),
    cleansession: v['cleansession'] === true,
    keepalive: isInt(v['keepalive']) ? v['keepalive'] : 60,
  };
};

const optionValue = (v: unknown): OptionValue | null =>
  typeof v === 'boolean' || typeof v === 'number' || typeof v === 'string' ? v
    : Array.isArray(v) && v.every((x) => typeof x === 'string') ? [...(v as string[])] : null;

/** A configuration as the API shows it (GET, preview and PUT answers), normalised for editing. */
export const parseConfig = (v: unknown): BrokerConfigDraft => {
  const c = isRec(v) ? v : {};
  const options: Record<string, OptionValue> = {};
  if (isRec(c['options'])) {
    for (const [k, x] of Object.entries(c['options'])) {
      const value = optionValue(x);
      if (value !== null) options[k] = value;
    }
  }
  return {
    listeners: list(c['listeners']).filter(isRec).map(listenerOf),
    options,
    bridges: list(c['bridges']).filter(isRec).map(bridgeOf),
    passthrough: list(c['passthrough']).filter((l): l is string => typeof l === 'string'),
  };
};

/** GET /broker/config, checked; null when it is not that shape. */
export const parseConfigView = (v: unknown, etag: string | null): BrokerConfigView | null => {
  if (!isRec(v) || !isRec(v['config']) || typeof v['managed'] !== 'boolean') return null;
  return {
    config: parseConfig(v['config']),
    managed: v['managed'],
    version: v['version'] === '2.1' ? '2.1' : '2.0',
    reservedPorts: list(v['reserved_ports']).filter(isInt),
    rendered: typeof v['rendered'] === 'string' ? v['rendered'] : null,
    catalog: list(v['catalog']).filter((d): d is Directive => isRec(d) && typeof d['name'] === 'string' && isRec(d['kind'])),
    seq: seqFromEtag(etag),
  };
};

export type BrokerData = { view: BrokerConfigView; certificates: CertificateView[]; certificatesTruncated: boolean };

/** The configuration and every stored certificate (read in parallel). */
export const loadBroker = async (api: ApiClient): Promise<BrokerData> => {
  const [res, certs] = await Promise.all([
    api.request<unknown>('GET', '/broker/config'),
    fetchAll<CertificateView>((path, query) => api.get<Page<CertificateView>>(path, query), '/certificates'),
  ]);
  const view = parseConfigView(res.body, res.etag);
  if (!view) throw new ApiError(res.status, { code: 'MCM_ERR_UI_SHAPE', message: 'the server answered with something that is not a broker configuration' });
  return { view, certificates: certs.items, certificatesTruncated: certs.truncated };
};

// ---- the draft ------------------------------------------------------------------------------

/** A deep copy to edit (the view stays as read: the draft is compared with it). */
export const draftOf = (config: BrokerConfigDraft): BrokerConfigDraft => JSON.parse(JSON.stringify(config)) as BrokerConfigDraft;

/** JSON with sorted keys: two configurations are the same when their stable forms are. */
const stable = (v: unknown): string =>
  Array.isArray(v) ? `[${v.map(stable).join(',')}]`
    : isRec(v) ? `{${Object.keys(v).filter((k) => v[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${stable(v[k])}`).join(',')}}`
      : JSON.stringify(v);

/** True when the draft differs from what the server has (a new bridge password counts). */
export const draftChanged = (draft: BrokerConfigDraft, base: BrokerConfigDraft): boolean => stable(draft) !== stable(base);

/** A draft row against the configuration read: new, changed, or as it was (''). */
export const rowState = <T extends { name: string }>(item: T, base: readonly T[]): 'new' | 'changed' | '' => {
  const before = base.find((x) => x.name === item.name);
  return before === undefined ? 'new' : stable(before) === stable(item) ? '' : 'changed';
};

/** Names in the configuration read that the draft no longer has. */
export const removedNames = (items: readonly { name: string }[], base: readonly { name: string }[]): string[] =>
  base.filter((b) => !items.some((x) => x.name === b.name)).map((b) => b.name);

const replaceNamed = <T extends { name: string }>(items: readonly T[], item: T, replacing: string | null): T[] => {
  const at = replacing === null ? -1 : items.findIndex((x) => x.name === replacing);
  return at < 0 ? [...items, item] : items.map((x, i) => (i === at ? item : x));
};

/** Adds a listener, or replaces the one named `replacing` (which may rename it). */
export const putListener = (d: BrokerConfigDraft, l: Listener, replacing: string | null): BrokerConfigDraft =>
  ({ ...d, listeners: replaceNamed(d.listeners, l, replacing) });

export const removeListener = (d: BrokerConfigDraft, name: string): BrokerConfigDraft =>
  ({ ...d, listeners: d.listeners.filter((l) => l.name !== name) });

/** Sets a global option; undefined removes it (the broker's default, or MCM's, applies). */
export const setOption = (d: BrokerConfigDraft, name: string, value: OptionValue | undefined): BrokerConfigDraft => {
  const options = { ...d.options };
  if (value === undefined) delete options[name];
  else options[name] = value;
  return { ...d, options };
};

export const putBridge = (d: BrokerConfigDraft, b: BridgeDraft, replacing: string | null): BrokerConfigDraft =>
  ({ ...d, bridges: replaceNamed(d.bridges, b, replacing) });

export const removeBridge = (d: BrokerConfigDraft, name: string): BrokerConfigDraft =>
  ({ ...d, bridges: d.bridges.filter((b) => b.name !== name) });

/**
 * The body of PUT /broker/config and of the preview: `hasRemotePassword` is the server's to say;
 * `remotePassword` only when the draft sets (string) or removes (null) it.
 */
export const configBody = (d: BrokerConfigDraft): { config: Rec } => ({
  config: {
    listeners: d.listeners,
    options: d.options,
    bridges: d.bridges.map(({ hasRemotePassword: _stored, remotePassword, ...b }) => (remotePassword === undefined ? b : { ...b, remotePassword })),
    passthrough: d.passthrough,
  },
});

/** What a bridge's password will be: kept as stored, newly set, removed, or none at all. */
export const passwordState = (b: BridgeDraft): 'stored' | 'new' | 'removed' | 'none' =>
  typeof b.remotePassword === 'string' ? 'new' : b.remotePassword === null ? (b.hasRemotePassword ? 'removed' : 'none') : b.hasRemotePassword ? 'stored' : 'none';

// ---- refusals -------------------------------------------------------------------------------

export type FieldProblem = { field: string; message: string };

/**
 * The core's details (`{field, message, value?}`) as field problems; details without a field go
 * under '', a detail without a message takes the error's (`fallback`).
 */
export const fieldProblems = (details: readonly unknown[], fallback = 'invalid'): FieldProblem[] =>
  details.filter(isRec).map((d) => ({ field: typeof d['field'] === 'string' ? d['field'] : '', message: typeof d['message'] === 'string' ? d['message'] : fallback }));

/**
 * The problems of one row (`listeners[2]`), keyed by the field inside it (`port`, `tls.certificate`;
 * '' for the row itself). The first message per field wins.
 */
export const rowProblems = (problems: readonly FieldProblem[], row: string): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const p of problems) {
    const rest = p.field === row ? '' : p.field.startsWith(`${row}.`) ? p.field.slice(row.length + 1) : p.field.startsWith(`${row}[`) ? p.field.slice(row.length) : null;
    if (rest !== null && !(rest in out)) out[rest] = p.message;
  }
  return out;
};

/** `listeners[0].port` → `listener "ws" › port` (by the draft's names), for a problem list. */
export const fieldLabel = (field: string, d: BrokerConfigDraft): string => {
  const m = /^(listeners|bridges)\[(\d+)\](?:\.(.+))?$/.exec(field);
  if (!m) return field.replace(/^options\./, 'option ');
  const items: readonly { name: string }[] = m[1] === 'listeners' ? d.listeners : d.bridges;
  const name = items[Number(m[2])]?.name;
  const what = `${m[1] === 'listeners' ? 'listener' : 'bridge'} ${name ? `"${name}"` : `#${Number(m[2]) + 1}`}`;
  return m[3] ? `${what} › ${m[3]}` : what;
};

export type Outcome<T> =
  | { kind: 'ok'; value: T }
  /** 400: nothing changed; every problem with its field. */
  | { kind: 'invalid'; message: string; problems: FieldProblem[] }
  /** 412: the broker configuration changed since the preview: preview again. */
  | { kind: 'stale'; message: string }
  /** 428: a restart the request did not confirm (no If-Match); the details carry the preview's seq. */
  | { kind: 'unconfirmed'; message: string; seq: number | null }
  | { kind: 'error'; message: string; code: string; status: number };

const refusal = (err: unknown): Outcome<never> => {
  if (!(err instanceof ApiError)) throw err;
  if (err.status === 412 || err.code === 'MCM_ERR_STALE_STREAM') return { kind: 'stale', message: err.message };
  if (err.status === 428 || err.code === 'MCM_ERR_RESTART_NOT_CONFIRMED') {
    const d = err.details.find(isRec);
    return { kind: 'unconfirmed', message: err.message, seq: d && isInt(d['seq']) ? d['seq'] : null };
  }
  if (err.status === 400) return { kind: 'invalid', message: err.message, problems: fieldProblems(err.details, err.message) };
  return { kind: 'error', message: err.message, code: err.code, status: err.status };
};

/** The preview answer, checked; null when it is not that shape. */
export const parsePreview = (v: unknown): BrokerPreview | null => {
  if (!isRec(v) || !isInt(v['seq']) || typeof v['diff'] !== 'string' || typeof v['restart_needed'] !== 'boolean') return null;
  return {
    seq: v['seq'],
    changes: list(v['changes']).filter(isRec).map((c) => ({
      what: String(c['what'] ?? ''),
      kind: c['kind'] === 'added' || c['kind'] === 'removed' ? c['kind'] : 'changed',
      apply: c['apply'] === 'reload' ? 'reload' : 'restart',
    })),
    restartNeeded: v['restart_needed'],
    clientsConnected: isInt(v['clients_connected']) ? v['clients_connected'] : null,
    clientsDropped: isInt(v['clients_dropped']) ? v['clients_dropped'] : null,
    diff: v['diff'],
    rendered: typeof v['rendered'] === 'string' ? v['rendered'] : '',
  };
};

/** POST /broker/config/preview (operator): nothing is changed. */
export const previewConfig = async (api: ApiClient, d: BrokerConfigDraft): Promise<Outcome<BrokerPreview>> => {
  try {
    const res = await api.request<unknown>('POST', '/broker/config/preview', { body: configBody(d) });
    const p = parsePreview(res.body);
    return p ? { kind: 'ok', value: p } : { kind: 'error', message: 'the server answered with something that is not a preview', code: 'MCM_ERR_UI_SHAPE', status: res.status };
  } catch (err) {
    return refusal(err);
  }
};

export type Applied = { writeSeq: number | null; restartNeeded: boolean; config: BrokerConfigDraft };

/**
 * PUT /broker/config (admin) with `If-Match: "<preview seq>"`: the confirmation a restart needs,
 * and a guard against a change someone else made since the preview (412).
 */
export const applyConfig = async (api: ApiClient, d: BrokerConfigDraft, preview: Pick<BrokerPreview, 'seq'>): Promise<Outcome<Applied>> => {
  try {
    const res = await api.request<Rec>('PUT', '/broker/config', { body: configBody(d), ifMatch: `"${preview.seq}"` });
    return { kind: 'ok', value: { writeSeq: seqFromEtag(res.etag), restartNeeded: res.body?.['restart_needed'] === true, config: parseConfig(res.body?.['config']) } };
  } catch (err) {
    return refusal(err);
  }
};

// ---- what the preview says ------------------------------------------------------------------

const plural = (n: number, one: string): string => `${n.toLocaleString('en-US')} ${one}${n === 1 ? '' : 's'}`;

/** "Restart needed — 3 clients will be disconnected", or how a reload-only change applies. */
export const restartText = (p: Pick<BrokerPreview, 'restartNeeded' | 'clientsDropped' | 'changes'>): string => {
  if (p.changes.length === 0) return 'Nothing to apply: this is the configuration the broker has.';
  if (!p.restartNeeded) return 'Applied with a reload: connected clients stay connected.';
  const who = p.clientsDropped === null ? 'every connected client will be disconnected (how many is not known right now)'
    : p.clientsDropped === 0 ? 'no client is connected now' : `${plural(p.clientsDropped, 'client')} will be disconnected`;
  return `Restart needed — ${who}. Clients reconnect on their own once the broker is back.`;
};

export const changeText = (c: ConfigChange): string => `${c.what} ${c.kind}`;

export type DiffLine = { text: string; kind: 'add' | 'del' | 'hunk' | 'meta' | 'same' };

/** A unified diff's lines, classed for colour (the text itself is shown as is). */
export const diffLines = (diff: string): DiffLine[] =>
  diff.split('\n').filter((l, i, all) => !(l === '' && i === all.length - 1)).map((text) => ({
    text,
    kind: text.startsWith('+++') || text.startsWith('---') ? 'meta' : text.startsWith('@@') ? 'hunk' : text.startsWith('+') ? 'add' : text.startsWith('-') ? 'del' : 'same',
  }));

// ---- MCM's own listeners and the rendered file ----------------------------------------------

export type ReservedListener = { port: number; bind: string | null; protocol: string | null };

/**
 * MCM's own listeners (reserved ports), with bind and protocol read from the rendered
 * mosquitto.conf (`listener 1883 127.0.0.1` / `protocol mqtt`); unknown without one.
 */
export const reservedListeners = (ports: readonly number[], rendered: string | null): ReservedListener[] => {
  const lines = (rendered ?? '').split('\n');
  return ports.map((port) => {
    const at = lines.findIndex((l, i) => new RegExp(`^listener ${port}(\\s|$)`).test(l) && !/^# listener /.test(lines[i - 1] ?? ''));
    if (at < 0) return { port, bind: null, protocol: null };
    let protocol: string | null = null;
    for (let i = at + 1; i < lines.length && (lines[i] ?? '') !== ''; i++) {
      const m = /^protocol (\S+)/.exec(lines[i] ?? '');
      if (m) protocol = m[1] ?? null;
    }
    return { port, bind: (lines[at] ?? '').split(' ')[2] ?? null, protocol };
  });
};

/** The values of a global directive in the rendered file (`log_type` appears once per value), or []. */
export const renderedValues = (rendered: string | null, name: string): string[] =>
  (rendered ?? '').split('\n').filter((l) => l.startsWith(`${name} `)).map((l) => l.slice(name.length + 1));
