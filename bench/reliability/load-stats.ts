/**
 * The load scenario's arithmetic: a log-bucketed latency histogram (2% resolution, so 200 ws
 * clients × thousands of messages/s cost a few KB, never an array of samples) and the RSS trend
 * test (least-squares slope over the samples after a warmup).
 */

const MIN_MS = 0.01;
const GROWTH = 1.02;
const LOG_GROWTH = Math.log(GROWTH);
/** 0.01 ms × 1.02^930 ≈ 10^6 ms: everything above lands in the last bucket (max is kept exactly). */
const BUCKETS = 930;

export type Histogram = { counts: number[]; n: number; max: number; sum: number };

export const newHistogram = (): Histogram => ({ counts: new Array<number>(BUCKETS).fill(0), n: 0, max: 0, sum: 0 });

export const record = (h: Histogram, ms: number): void => {
  const v = ms < 0 ? 0 : ms;
  const i = v <= MIN_MS ? 0 : Math.min(BUCKETS - 1, Math.ceil(Math.log(v / MIN_MS) / LOG_GROWTH));
  h.counts[i] = (h.counts[i] ?? 0) + 1;
  h.n++;
  h.sum += v;
  if (v > h.max) h.max = v;
};

export const merge = (into: Histogram, from: Histogram): void => {
  for (let i = 0; i < BUCKETS; i++) into.counts[i] = (into.counts[i] ?? 0) + (from.counts[i] ?? 0);
  into.n += from.n;
  into.sum += from.sum;
  if (from.max > into.max) into.max = from.max;
};

/** The upper bound of the bucket holding the q-quantile (within 2%), capped at the exact max. */
export const quantile = (h: Histogram, q: number): number | null => {
  if (h.n === 0) return null;
  const rank = Math.ceil(q * h.n);
  let seen = 0;
  for (let i = 0; i < BUCKETS; i++) {
    seen += h.counts[i] ?? 0;
    if (seen >= rank) return Math.min(h.max, MIN_MS * GROWTH ** i);
  }
  return h.max;
};

/** Percentile summary in ms, rounded for a table. */
export const summary = (h: Histogram): { n: number; p50: number | null; p99: number | null; max: number | null; mean: number | null } => {
  const r = (v: number | null): number | null => (v === null ? null : Math.round(v * 100) / 100);
  return { n: h.n, p50: r(quantile(h, 0.5)), p99: r(quantile(h, 0.99)), max: h.n ? r(h.max) : null, mean: h.n ? r(h.sum / h.n) : null };
};

/** Least-squares fit y = a + b·x. */
export const linearFit = (points: readonly { x: number; y: number }[]): { slope: number; intercept: number } => {
  const n = points.length;
  if (n < 2) return { slope: 0, intercept: points[0]?.y ?? 0 };
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const p of points) {
    sxy += (p.x - mx) * (p.y - my);
    sxx += (p.x - mx) ** 2;
  }
  const slope = sxx === 0 ? 0 : sxy / sxx;
  return { slope, intercept: my - slope * mx };
};

export type RssSample = { t_s: number; server_rss: number | null; broker_rss: number | null; heap_used: number | null };

export type Trend = {
  /** Samples the fit used (after the warmup). */
  samples: number;
  mean_bytes: number;
  slope_bytes_per_s: number;
  /** slope × the fitted window: how much the line rises across it. */
  growth_bytes: number;
  allowed_bytes: number;
  ok: boolean;
};

/**
 * "No upward trend": fit a line through the samples taken after `warmupS`; the rise of that line
 * across the window (slope × window) must stay under max(`fraction` of the mean, `floorBytes`).
 * The fit averages out GC sawtooth and allocator noise that a first/last comparison would not;
 * the floor keeps a short window (CI's minute) from failing on a few MB of noise, the fraction
 * scales the bound with the process. A leak proportional to the work (bytes per request or per
 * message) shows as a steady slope and fails once it passes the bound.
 */
export const trend = (
  samples: readonly RssSample[],
  pick: (s: RssSample) => number | null,
  opts: { warmupS: number; fraction: number; floorBytes: number },
): Trend => {
  const points = samples.filter((s) => s.t_s >= opts.warmupS).flatMap((s) => {
    const y = pick(s);
    return y === null ? [] : [{ x: s.t_s, y }];
  });
  const { slope } = linearFit(points);
  const mean = points.length ? points.reduce((s, p) => s + p.y, 0) / points.length : 0;
  const window = points.length >= 2 ? (points[points.length - 1]?.x ?? 0) - (points[0]?.x ?? 0) : 0;
  const growth = slope * window;
  const allowed = Math.max(opts.fraction * mean, opts.floorBytes);
  return {
    samples: points.length,
    mean_bytes: Math.round(mean),
    slope_bytes_per_s: Math.round(slope),
    growth_bytes: Math.round(growth),
    allowed_bytes: Math.round(allowed),
    ok: points.length >= 3 && growth <= allowed,
  };
};

export const mib = (bytes: number | null): string => (bytes === null ? 'n/a' : `${(bytes / 1048576).toFixed(1)} MiB`);
