/**
 * Broker statistics from `$SYS/broker/…` (reference §5), parsed to numbers: `uptime` "N seconds"
 * → N, counters and load averages → numbers, `version` kept as text. Mosquitto 2.0.11 publishes
 * a value only when it changes and lets it expire after 60 s (fixed in 2.0.16), so a value that
 * stopped changing is not re-sent to a new subscriber: the observer keeps one long-lived
 * subscription and this module keeps the last value of every key for as long as it runs.
 * `broker_stats` is pushed at most once per `throttleMs`, carrying the whole snapshot.
 *
 * Next to the raw values it derives `figures` that leave MCM itself out (issue 12):
 * - `$SYS/broker/messages/*` count every packet (CONNECT, PINGREQ, …); the PUBLISH counters are
 *   `publish/messages/received|sent` (reference §5, checked against 2.0.11).
 * - `publish/messages/sent` also counts every copy the broker delivers to MCM's observer (it
 *   subscribes to `#` and `$SYS/#`, so the `$SYS` updates alone move it on an idle broker). The
 *   broker counts a PUBLISH when it builds the packet and sends one connection's packets in order,
 *   so the observer's own count of PUBLISH packets received *before* the message carrying the
 *   counter is exactly its share of that value: `publish_sent` is the counter minus that share.
 * - `clients/connected` counts MCM's own connections (observer, probes): `clients_connected`
 *   subtracts the ones live when the snapshot is taken (`ownConnections`).
 */
import type { LiveBus, SysFigures } from '../live/live-bus.ts';

export type { SysFigures };

export const SYS_PREFIX = '$SYS/broker/';

export type StatValue = number | string;

export type SysStatsSnapshot = Readonly<{
  /** "mosquitto version 2.0.11", or null before the broker said. */
  version: string | null;
  uptime_s: number | null;
  /** Every key below `$SYS/broker/`, e.g. `clients/connected`, `load/messages/received/1min`. */
  values: Readonly<Record<string, StatValue>>;
  figures: SysFigures;
  /** ISO time of the last update, null before the first. */
  updated_at: string | null;
}>;

/** One point of the rates history: the counters the dashboard's charts are drawn from. */
export type SysHistorySample = Readonly<{ at: string; values: Readonly<Record<string, number>>; figures: SysFigures }>;

/**
 * How long the rates history reaches back (issue 16: the dashboard's charts are filled on load,
 * not empty for the first samples), and the `$SYS` counters it keeps (cumulative, so a rate is
 * the difference of two samples). At Mosquitto's 10 s sys_interval that is about 90–180 samples.
 */
export const HISTORY_MS = 15 * 60_000;
export const HISTORY_KEYS = ['bytes/received', 'bytes/sent', 'messages/received', 'messages/sent'] as const;
const HISTORY_MAX = 2000;

export type SysStats = {
  /** The samples of the last HISTORY_MS (or `sinceMs`), oldest first, as pushed to the bus. */
  history(sinceMs?: number): SysHistorySample[];
  /**
   * Feed one `$SYS/broker/…` message. Log topics (`$SYS/broker/log/…`) are not stats and are ignored.
   * `ownPublishes`: PUBLISH packets MCM's observer had received before this one (all topics, `$SYS`
   * included); without it `publish_sent` is the raw counter.
   */
  handle(topic: string, payload: Buffer, ownPublishes?: number): void;
  snapshot(): SysStatsSnapshot;
  /** Forget everything (a different broker answered). */
  reset(): void;
  /** Publishes a pending throttled update now and cancels the timer. */
  flush(): void;
  stop(): void;
};

export type SysStatsDeps = Readonly<{
  bus: LiveBus;
  /** ms since the epoch. */
  now?: () => number;
  throttleMs?: number;
  /** MCM's own connections to the broker right now (observer, probes), subtracted from `clients/connected`. */
  ownConnections?: () => number;
  /** Called when uptime goes backwards: the broker restarted under us. */
  onRestart?: () => void;
}>;

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** "123 seconds" → 123; a numeric string → its number; anything else stays text. */
export const parseStatValue = (key: string, raw: string): StatValue => {
  const text = raw.trim();
  if (key === 'version') return text;
  if (key === 'uptime') {
    const m = /^(\d+) seconds?$/.exec(text);
    if (m) return Number(m[1]);
  }
  return NUMBER.test(text) ? Number(text) : text;
};

export const createSysStats = (deps: SysStatsDeps): SysStats => {
  const now = deps.now ?? Date.now;
  const throttleMs = deps.throttleMs ?? 1000;
  let values: Record<string, StatValue> = {};
  let updatedAt: number | null = null;
  let lastPublished = 0;
  let dirty = false;
  let timer: NodeJS.Timeout | null = null;
  /** publish_sent: counter minus the observer's share, relative to `sentBase` (set at the first sample and on a restart). */
  let sentBase: number | null = null;
  let lastSentCounter = 0;
  let publishSent: number | null = null;
  const history: SysHistorySample[] = [];

  const num = (key: string): number | null => (typeof values[key] === 'number' ? values[key] : null);
  const figures = (): SysFigures => {
    const connected = num('clients/connected');
    return {
      publish_received: num('publish/messages/received'),
      publish_sent: publishSent,
      clients_connected: connected === null ? null : Math.max(0, connected - (deps.ownConnections?.() ?? 0)),
    };
  };

  const trackSent = (counter: number, ownPublishes: number | undefined): void => {
    if (ownPublishes === undefined) {
      publishSent = counter;
      return;
    }
    const others = counter - ownPublishes;
    if (sentBase === null || counter < lastSentCounter) {
      // First sample, or the counter went back (the broker restarted): a new baseline.
      sentBase = others;
      publishSent = 0;
    } else {
      // Never backwards: a copy still queued for the observer when the counter was read shows up
      // in the observer's count first; the next sample makes up for it.
      publishSent = Math.max(publishSent ?? 0, others - sentBase);
    }
    lastSentCounter = counter;
  };

  const snapshot = (): SysStatsSnapshot => ({
    version: typeof values['version'] === 'string' ? values['version'] : null,
    uptime_s: typeof values['uptime'] === 'number' ? values['uptime'] : null,
    values: { ...values },
    figures: figures(),
    updated_at: updatedAt === null ? null : new Date(updatedAt).toISOString(),
  });

  const publish = (): void => {
    timer = null;
    if (!dirty) return;
    dirty = false;
    lastPublished = now();
    const at = new Date(lastPublished).toISOString();
    deps.bus.publish({ type: 'broker_stats', stats: { ...values }, figures: figures(), at });
    const kept: Record<string, number> = {};
    for (const k of HISTORY_KEYS) if (typeof values[k] === 'number') kept[k] = values[k];
    history.push({ at, values: kept, figures: figures() });
    const oldest = lastPublished - HISTORY_MS;
    let drop = 0;
    while (drop < history.length && (history.length - drop > HISTORY_MAX || Date.parse(history[drop]?.at ?? '') < oldest)) drop++;
    if (drop) history.splice(0, drop);
  };

  const schedule = (): void => {
    dirty = true;
    if (timer) return;
    const wait = lastPublished + throttleMs - now();
    if (wait <= 0) {
      publish();
      return;
    }
    timer = setTimeout(publish, wait);
    timer.unref();
  };

  return {
    history(sinceMs = HISTORY_MS) {
      const from = now() - Math.min(sinceMs, HISTORY_MS);
      return history.filter((h) => Date.parse(h.at) >= from);
    },
    handle(topic, payload, ownPublishes) {
      if (!topic.startsWith(SYS_PREFIX)) return;
      const key = topic.slice(SYS_PREFIX.length);
      if (key === 'log' || key.startsWith('log/')) return;
      // An empty payload carries no value (a cleared retained message): keep the last one.
      if (payload.length === 0) return;
      const value = parseStatValue(key, payload.toString('utf8'));
      if (key === 'uptime' && typeof value === 'number') {
        const before = values['uptime'];
        if (typeof before === 'number' && value < before) deps.onRestart?.();
      }
      if (key === 'publish/messages/sent' && typeof value === 'number') trackSent(value, ownPublishes);
      if (values[key] === value) return;
      values[key] = value;
      updatedAt = now();
      schedule();
    },
    snapshot,
    reset() {
      // A different broker answered: its counters are not comparable with the old ones.
      history.length = 0;
      values = {};
      updatedAt = null;
      sentBase = null;
      lastSentCounter = 0;
      publishSent = null;
    },
    flush() {
      if (timer) clearTimeout(timer);
      publish();
    },
    stop() {
      if (timer) clearTimeout(timer);
      timer = null;
      dirty = false;
    },
  };
};
