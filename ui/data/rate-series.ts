/**
 * Rates for the dashboard charts, from the broker's own counters: Mosquitto publishes cumulative
 * counters every sys_interval (10 s as MCM renders it) and the observer pushes them as
 * `broker_stats` (`stats`: every `$SYS` value; `figures`: the PUBLISH counts with MCM's own
 * observer left out, adapters/mqtt/sys-stats.ts). The message chart uses the PUBLISH figures, not
 * `$SYS/broker/messages/*`, which count every packet (CONNECT, PINGREQ, …). A rate is the
 * difference of two samples over the time between them. A counter that goes down (the broker
 * restarted) starts a new baseline and leaves a gap in the chart (null), never a negative rate.
 *
 * The observer pushes `broker_stats` at most once a second, as soon as a value changes: a $SYS
 * burst (all keys within milliseconds) usually arrives as two samples about a second apart, the
 * first with only `uptime` new. Samples closer than `mergeMs` to the last point are merged into
 * it (its rate is recomputed over the whole span), so a split burst is one point with the right
 * rate, not a zero followed by a tenfold spike.
 *
 * Kept in a ring buffer of `capacity` points; `data()` is uPlot's aligned form
 * [xs in seconds, ...one array per key]. Pure: no DOM, no clock (times are passed in).
 */

export type RateSample = Readonly<{ t: number; rates: readonly (number | null)[] }>;

export type RateSeries = {
  /** Feeds one counters sample taken at `tMs`; returns true when it added a point. */
  sample(tMs: number, counters: Readonly<Record<string, unknown>>): boolean;
  /** uPlot's aligned data: [x seconds, ...y per key]. */
  data(): [number[], ...(number | null)[][]];
  /** The newest point, or null before two samples. */
  latest(): RateSample | null;
  size(): number;
  readonly keys: readonly string[];
};

/**
 * PUBLISH packets received by the broker, and sent by it to subscribers other than MCM's observer
 * (`figures` of `broker_stats`, GET /status `stats.figures`).
 */
export const MESSAGE_COUNTERS = ['publish_received', 'publish_sent'] as const;
/** `$SYS/broker/bytes/*`: every byte on the wire, as `broker_stats` names them. */
export const BYTE_COUNTERS = ['bytes/received', 'bytes/sent'] as const;

/** One sample for the series: the `$SYS` values with the derived figures beside them (their names have no '/'). */
export const rateCounters = (
  values: Readonly<Record<string, unknown>> | null | undefined,
  figures: Readonly<Record<string, unknown>> | null | undefined,
): Record<string, unknown> => ({ ...values, ...figures });

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

export const createRateSeries = (keys: readonly string[], capacity = 180, mergeMs = 3000): RateSeries => {
  if (!Number.isInteger(capacity) || capacity < 1) throw new Error('rate series: capacity must be a positive integer');
  type Sample = { t: number; values: (number | null)[] };
  const ring: RateSample[] = [];
  let start = 0;
  /** The sample the last point's rates start from, and the one they end at. */
  let base: Sample | null = null;
  let last: Sample | null = null;
  let hasPoint = false;

  const push = (s: RateSample): void => {
    if (ring.length < capacity) ring.push(s);
    else {
      ring[start] = s;
      start = (start + 1) % capacity;
    }
  };
  const replaceLast = (s: RateSample): void => {
    ring[(start + ring.length - 1) % ring.length] = s;
  };
  const ordered = (): RateSample[] => [...ring.slice(start), ...ring.slice(0, start)];
  const ratesBetween = (from: Sample, to: Sample): (number | null)[] => {
    const dt = (to.t - from.t) / 1000;
    const rates = to.values.map((v, i) => {
      const b = from.values[i];
      return v === null || b === null || b === undefined ? null : (v - b) / dt;
    });
    // A counter that went down: the broker restarted. A gap, never a negative rate.
    return rates.some((r) => r !== null && r < 0) ? keys.map(() => null) : rates;
  };

  return {
    keys,
    sample: (tMs, counters) => {
      if (!Number.isFinite(tMs)) return false;
      const values = keys.map((k) => num(counters[k]));
      if (values.every((v) => v === null)) return false;
      const s: Sample = { t: tMs, values };
      if (last === null) {
        last = s;
        return false;
      }
      // The same sample twice (GET /status and the ws snapshot), or one from the past: nothing new.
      if (tMs <= last.t) return false;
      // The same values again shortly after (GET /status, then the push of the same update).
      if (tMs - last.t < mergeMs && values.every((v, i) => v === last!.values[i])) return false;
      if (hasPoint && base !== null && tMs - last.t < mergeMs) {
        replaceLast({ t: tMs, rates: ratesBetween(base, s) });
      } else {
        base = last;
        push({ t: tMs, rates: ratesBetween(base, s) });
        hasPoint = true;
      }
      last = s;
      return true;
    },
    data: () => {
      const points = ordered();
      return [points.map((p) => p.t / 1000), ...keys.map((_, i) => points.map((p) => p.rates[i] ?? null))];
    },
    latest: () => (ring.length === 0 ? null : ring[(start + ring.length - 1) % ring.length] ?? null),
    size: () => ring.length,
  };
};
