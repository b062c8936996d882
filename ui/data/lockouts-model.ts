/**
 * Sign-in locks on the admin users screen (DESIGN §9; admin only): GET /lockouts lists locked
 * (address, username) pairs and addresses and the usernames whose attempts are delayed;
 * DELETE /lockouts?username=&address= lifts one. Pure, tested in tests/ui/lockouts-model.test.ts
 * against the real HTTP app.
 */
import type { ApiClient, Query } from './api-client.ts';

export type LockoutScope = 'pair' | 'address' | 'username';

export type Lockout = {
  scope: LockoutScope;
  username: string | null;
  address: string | null;
  failures: number;
  until: string;
  retry_after_s?: number;
  delay_s?: number;
};

export type LockoutList = { items: Lockout[]; policy?: { max_failures: number; max_failures_per_address: number; window_s: number; max_delay_s: number } };

/** The DELETE /lockouts query that lifts exactly this entry (a pair: both; else the one it names). */
export const unlockQuery = (l: Lockout): Query =>
  l.scope === 'pair' ? { username: l.username, address: l.address }
    : l.scope === 'address' ? { address: l.address }
      : { username: l.username };

/** `45 seconds`, `12 minutes`, `2 hours` from now (at least a second). */
export const inWords = (until: string, now: number): string => {
  const s = Math.max(1, (Date.parse(until) - now) / 1000);
  const unit = (n: number, w: string): string => `${n} ${w}${n === 1 ? '' : 's'}`;
  return s < 60 ? unit(Math.round(s), 'second') : s < 3600 ? unit(Math.round(s / 60), 'minute') : unit(Math.round(s / 3600), 'hour');
};

/** `14:05:09 UTC`. */
export const clockTime = (iso: string): string => `${iso.slice(11, 19)} UTC`;

/** What is locked, in words, e.g. `sign-in for "admin" from 203.0.113.7`. */
export const lockoutWhat = (l: Lockout): string =>
  l.scope === 'pair' ? `sign-in for "${l.username}" from ${l.address}`
    : l.scope === 'address' ? `sign-in from ${l.address} (every username)`
      : `sign-in for "${l.username}" from anywhere`;

/** What it means and until when, e.g. `locked until 14:05:09 UTC (in 12 minutes) after 6 failed attempts`. */
export const lockoutState = (l: Lockout, now: number): string =>
  l.scope === 'username'
    ? `each attempt waits ${l.delay_s ?? 0} s (not locked) until ${clockTime(l.until)} (in ${inWords(l.until, now)}), after ${l.failures} failed attempts`
    : `locked until ${clockTime(l.until)} (in ${inWords(l.until, now)}) after ${l.failures} failed attempts`;

/** Whether an admin user's row should say its sign-in is locked somewhere (a pair lock). */
export const isLockedSomewhere = (username: string, items: readonly Lockout[]): boolean =>
  items.some((l) => l.scope === 'pair' && l.username === username);

/** A stable key per entry (list rendering, busy state). */
export const lockoutKey = (l: Lockout): string => `${l.scope}|${l.username ?? ''}|${l.address ?? ''}`;

export const loadLockouts = (api: ApiClient): Promise<LockoutList> => api.get<LockoutList>('/lockouts');

export const liftLockout = async (api: ApiClient, l: Lockout): Promise<void> => {
  await api.request('DELETE', '/lockouts', { query: unlockQuery(l) });
};
