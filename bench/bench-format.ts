/** How the benches print milliseconds and p50/p95/p99 triples. */
import type { Stats } from './apply-latency.ts';

export const ms = (v: number | undefined): string => (v === undefined || Number.isNaN(v) ? '—' : v.toFixed(1));
export const triple = (s: Stats | null): string => (s ? `${ms(s.p50)} / ${ms(s.p95)} / ${ms(s.p99)}` : '—');
