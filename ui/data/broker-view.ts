/**
 * The dashboard's picture of the broker (no DOM): built from `GET /status`, replaced by the ws
 * `snapshot`, then updated by `broker_status` (up/down with a reason), `broker_stats` (every
 * `$SYS/broker/…` value) and `apply_status`. Each reducer returns a new object.
 */

export type ApplyStatus = Readonly<{
  desired_seq: number;
  applied_seq: number;
  state: 'applied' | 'pending' | 'failed' | 'adoption_required';
  last: Readonly<{ seq: number; result: 'applied' | 'written' | 'failed'; latency_ms: number | null; at: string; reason?: string }> | null;
  broker: Readonly<{ mode: string; up: boolean; reload?: string; version?: string | null; backend?: 'files' | 'dynsec' }>;
  /** With state `adoption_required`: the broker files MCM did not write (it writes nothing until they are imported). */
  adoption?: Readonly<{ files: readonly Readonly<{ file: string; path: string | null; sha256: string }>[] }>;
}>;

export type TopicTreeStats = Readonly<{ topics: number; max_topics: number; evicted: number; messages: number; bytes: number }>;

export type BrokerView = Readonly<{
  /** null: unknown (no observer on this server). */
  up: boolean | null;
  reason: string | null;
  since: string | null;
  mode: string | null;
  version: string | null;
  uptimeS: number | null;
  stats: Readonly<Record<string, number | string>>;
  /** `$SYS`-derived figures with MCM's own connections and traffic left out (GET /status `stats.figures`). */
  figures: SysFigures;
  statsAt: string | null;
  topics: TopicTreeStats | null;
  apply: ApplyStatus | null;
}>;

/** docs/openapi.yaml SysFigures. */
export type SysFigures = Readonly<{ publish_received: number | null; publish_sent: number | null; clients_connected: number | null }>;

export const NO_FIGURES: SysFigures = { publish_received: null, publish_sent: null, clients_connected: null };

export const EMPTY_BROKER_VIEW: BrokerView = {
  up: null, reason: null, since: null, mode: null, version: null, uptimeS: null, stats: {}, figures: NO_FIGURES, statsAt: null, topics: null, apply: null,
};

/** `GET /status` (docs/openapi.yaml BrokerStatus). */
export type StatusResponse = Readonly<{
  broker: Readonly<{ mode: string; up: boolean | null; version: string | null; uptime_s: number | null }>;
  stats: Readonly<{
    values: Readonly<Record<string, number | string>>; figures?: SysFigures; updated_at: string | null;
    /** With `?history_s`: the counters of the last minutes, oldest first (issue 16: charts filled on load). */
    history?: readonly Readonly<{ at: string; values: Readonly<Record<string, number>>; figures: SysFigures }>[];
  }> | null;
  observer: Readonly<{ state: string; connected: boolean; since: string | null; reason: string | null }> | null;
  clients: Readonly<{ connected: number; overflow: number; log_source: string }> | null;
  topics: TopicTreeStats | null;
  apply: ApplyStatus;
}>;

export const fromStatus = (s: StatusResponse): BrokerView => ({
  up: s.broker.up,
  reason: s.observer?.reason ?? null,
  since: s.observer?.since ?? null,
  mode: s.broker.mode,
  version: s.broker.version,
  uptimeS: s.broker.uptime_s,
  stats: s.stats?.values ?? {},
  figures: s.stats?.figures ?? NO_FIGURES,
  statsAt: s.stats?.updated_at ?? null,
  topics: s.topics,
  apply: s.apply,
});

type Rec = Record<string, unknown>;
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const numOrNull = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);
const figuresOf = (v: unknown, before: SysFigures): SysFigures => (isRec(v)
  ? { publish_received: numOrNull(v['publish_received']), publish_sent: numOrNull(v['publish_sent']), clients_connected: numOrNull(v['clients_connected']) }
  : before);

/** The ws `snapshot`: {status: {broker: {up, version, uptime_s, since, reason}, topics, apply}, stats: {values, updated_at}}. */
export const withSnapshot = (v: BrokerView, m: Rec): BrokerView => {
  const status = isRec(m['status']) ? m['status'] : {};
  const broker = isRec(status['broker']) ? status['broker'] : {};
  const stats = isRec(m['stats']) ? m['stats'] : {};
  return {
    ...v,
    up: typeof broker['up'] === 'boolean' ? broker['up'] : v.up,
    reason: 'reason' in broker ? str(broker['reason']) : v.reason,
    since: 'since' in broker ? str(broker['since']) : v.since,
    version: str(broker['version']) ?? v.version,
    uptimeS: numOrNull(broker['uptime_s']) ?? v.uptimeS,
    stats: isRec(stats['values']) ? (stats['values'] as Record<string, number | string>) : v.stats,
    figures: figuresOf(stats['figures'], v.figures),
    statsAt: str(stats['updated_at']) ?? v.statsAt,
    topics: isRec(status['topics']) ? (status['topics'] as TopicTreeStats) : v.topics,
    apply: isRec(status['apply']) ? (status['apply'] as ApplyStatus) : v.apply,
  };
};

/** `broker_status` {up, reason?, at}. */
export const withBrokerStatus = (v: BrokerView, m: Rec): BrokerView => ({
  ...v,
  up: typeof m['up'] === 'boolean' ? m['up'] : v.up,
  reason: str(m['reason']),
  since: str(m['at']) ?? v.since,
});

/** `broker_stats` {stats: every $SYS value, figures, at}. */
export const withBrokerStats = (v: BrokerView, m: Rec): BrokerView => {
  if (!isRec(m['stats'])) return v;
  const stats = m['stats'] as Record<string, number | string>;
  return {
    ...v,
    stats,
    figures: figuresOf(m['figures'], v.figures),
    statsAt: str(m['at']) ?? v.statsAt,
    version: typeof stats['version'] === 'string' ? stats['version'] : v.version,
    uptimeS: numOrNull(stats['uptime']) ?? v.uptimeS,
  };
};

/** `apply_status` {status, at}. */
export const withApplyStatus = (v: BrokerView, m: Rec): BrokerView =>
  (isRec(m['status']) ? { ...v, apply: m['status'] as ApplyStatus } : v);

/**
 * The broker's version as best known, for display: the observer's `$SYS/broker/version`
 * ("mosquitto version 2.0.11") or else the apply status's `broker.version` ("2.0.11": the
 * supervised binary's `-h`, or the external broker's $SYS), both shown as "mosquitto version
 * X.Y.Z"; null when neither is known yet.
 */
export const brokerVersion = (v: BrokerView): string | null => versionLabel(v.version ?? v.apply?.broker.version ?? null);

/** "2.0.11" or "mosquitto version 2.0.11" → "mosquitto version 2.0.11"; null for nothing. */
export const versionLabel = (raw: string | null | undefined): string | null => {
  const t = (raw ?? '').trim();
  if (t === '') return null;
  return /^\d/.test(t) ? `mosquitto version ${t}` : t;
};

/** A stat as a number, or null (absent, or text). */
export const statNumber = (v: BrokerView, key: string): number | null => numOrNull(v.stats[key]);

/**
 * The broker's own figures on the dashboard (issue 16), each from `$SYS/broker/<key>` (reference
 * §5) with what it means, shown on hover. Connected clients come from `figures` (MCM's own
 * connections left out, adapters/mqtt/sys-stats.ts).
 */
export const SYS_FIGURE_ROWS: readonly Readonly<{ label: string; key: string; meaning: string }>[] = [
  { label: 'Connected clients', key: 'clients/connected', meaning: "$SYS/broker/clients/connected: clients connected to the broker now, MCM's own observer and probes left out." },
  { label: 'Subscriptions', key: 'subscriptions/count', meaning: '$SYS/broker/subscriptions/count: active subscriptions over all clients (a client subscribed to three filters counts three).' },
  { label: 'Retained messages', key: 'retained messages/count', meaning: '$SYS/broker/retained messages/count: topics holding a retained message, handed to every new subscriber.' },
  { label: 'Stored messages', key: 'store/messages/count', meaning: '$SYS/broker/store/messages/count: messages the broker holds in memory (retained ones and those queued for clients).' },
  { label: 'Dropped messages', key: 'publish/messages/dropped', meaning: '$SYS/broker/publish/messages/dropped: PUBLISH messages dropped since start because a client\'s queue was full (max_queued_messages) or it was offline with QoS 0.' },
];

/** A figure of SYS_FIGURE_ROWS, or null before the broker published it. */
export const sysFigure = (v: BrokerView, key: string): number | null =>
  key === 'clients/connected' ? v.figures.clients_connected ?? statNumber(v, key) : statNumber(v, key);
