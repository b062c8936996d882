/** Formatters shared by the screens. Pure functions: tested under node:test. */

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export const formatBytes = (n: number | null | undefined): string => {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  let v = Math.abs(n);
  let i = 0;
  while (v >= 1024 && i < UNITS.length - 1) { v /= 1024; i += 1; }
  const s = i === 0 ? String(Math.round(v)) : v.toFixed(v < 10 ? 1 : 0);
  return `${n < 0 ? '-' : ''}${s} ${UNITS[i]}`;
};

export const formatCount = (n: number | null | undefined): string =>
  n === null || n === undefined || !Number.isFinite(n) ? '—' : Math.round(n).toLocaleString('en-US');

/** Messages or bytes per second: 0.25/s, 12/s, 1.2k/s. */
export const formatRate = (perSecond: number | null | undefined, unit = '/s'): string => {
  if (perSecond === null || perSecond === undefined || !Number.isFinite(perSecond)) return '—';
  const v = Math.abs(perSecond);
  const s = v >= 1e6 ? `${(perSecond / 1e6).toFixed(1)}M` : v >= 1e3 ? `${(perSecond / 1e3).toFixed(1)}k` : v >= 10 || v === 0 ? String(Math.round(perSecond)) : perSecond.toFixed(2);
  return `${s}${unit}`;
};

/** 3725 → "1h 2m 5s"; days for long uptimes. */
export const formatDuration = (seconds: number | null | undefined): string => {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '—';
  const s = Math.floor(seconds);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const parts = d > 0 ? [`${d}d`, `${h}h`, `${m}m`] : h > 0 ? [`${h}h`, `${m}m`, `${s % 60}s`] : m > 0 ? [`${m}m`, `${s % 60}s`] : [`${s % 60}s`];
  return parts.join(' ');
};

/** An ISO time relative to `now`: "12 s ago", "3 min ago", else the date and time. */
export const formatAgo = (iso: string | null | undefined, now: number): string => {
  if (!iso) return '—';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '—';
  const s = Math.round((now - t) / 1000);
  if (s < 0) return formatTime(iso);
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return formatTime(iso);
};

/** "2026-11-25 14:03:07" (UTC, as the log stores it): unambiguous across operators' time zones. */
export const formatTime = (iso: string | null | undefined): string => {
  if (!iso) return '—';
  const t = Date.parse(iso);
  return Number.isNaN(t) ? '—' : new Date(t).toISOString().replace('T', ' ').slice(0, 19) + 'Z';
};

export const formatLatency = (ms: number | null | undefined): string =>
  ms === null || ms === undefined || !Number.isFinite(ms) ? '—' : ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;

/** Pretty JSON when the text is JSON, else null. */
export const prettyJson = (text: string): string | null => {
  const t = text.trim();
  if (!(t.startsWith('{') || t.startsWith('['))) return null;
  try { return JSON.stringify(JSON.parse(t), null, 2); } catch { return null; }
};

/** Truncates with an ellipsis; never splits a surrogate pair. */
export const truncate = (text: string, max: number): string => {
  const chars = Array.from(text);
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
};
