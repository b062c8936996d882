/**
 * Sign-in lockout (DESIGN §9, ASVS V2.2). Password, MFA and re-authentication failures count,
 * each in three counters kept in the database (adapters/sqlite/login-failures.ts), so a restart
 * keeps a lock:
 *
 * - the (address, username) pair is locked after `maxFailures` failures within `windowS`;
 * - the address alone (IPv4 as is, IPv6 by its /64: address-key.ts) is locked after the higher
 *   `maxFailuresPerAddress`, so one source can't try many usernames;
 * - the username alone is never locked — else anyone could lock `admin` out for everyone — but
 *   after `maxFailures` failures every further attempt for it waits before its password is
 *   checked: 1 s, doubling with each failure, at most `maxDelayS`.
 *
 * A lock lasts until enough of its failures have aged out of the window. Attempts still being
 * checked (bcrypt takes a while) count against the pair's and the address's limits: an attempt
 * that could take a counter past its limit waits for one to finish (at most `maxQueueMs`, then
 * "busy"), so a thousand parallel guesses get `maxFailures` checked, while parallel sign-ins that
 * succeed — seven colleagues behind one NAT — all get through, since a success counts nothing.
 */
import type { Clock } from '../../../core/ports.ts';
import type { Config } from '../../config/config.ts';
import type { LoginFailureFilter, LoginFailureTable } from '../../sqlite/login-failures.ts';
import { addressKeyOf } from './address-key.ts';

export type LockoutPolicy = Readonly<{ maxFailures: number; maxFailuresPerAddress: number; windowS: number; maxDelayS: number }>;

/** `username` '' when the attempt names no user (an unknown MFA challenge): only the address counts. */
export type LockoutSubject = Readonly<{ ip: string; username: string }>;

export type Lock = Readonly<{
  scope: 'pair' | 'address';
  /** The pair's username; null for an address lock. */
  username: string | null;
  /** The address key (`203.0.113.7`, `2001:db8:1:2::/64`). */
  address: string;
  /** Failures within the window. */
  failures: number;
  untilMs: number;
}>;

/** Why an attempt may not start: a lock, or (`lock` null) too many attempts of the same source in flight. */
export type LockoutRefusal = Readonly<{ kind: 'refused'; lock: Lock | null; subject: LockoutSubject; retryAfterS: number }>;

export type LockoutAttempt = Readonly<{
  kind: 'attempt';
  /** The username's growing delay: how long to wait before checking the password (ms). */
  delayMs: number;
  /** Records the failure; returns the lock it caused, or null. Ends the attempt. */
  fail(): Lock | null;
  /** Ends the attempt without a failure (success, or a refusal that doesn't count). Idempotent. */
  done(): void;
}>;

/** `GET /lockouts`: a current lock or username delay. */
export type LockoutEntry = {
  scope: 'pair' | 'address' | 'username';
  username: string | null;
  address: string | null;
  failures: number;
  /** ISO-8601 UTC: when the lock ends, or when the username's delay drops back to none. */
  until: string;
  /** Locks: seconds until sign-in may be tried again. */
  retry_after_s?: number;
  /** Username delays: seconds each attempt for it waits now. */
  delay_s?: number;
};

export type Lockout = {
  policy: LockoutPolicy;
  /** Starts a counted attempt (after waiting for in-flight ones when needed), or refuses it. */
  begin(subject: LockoutSubject): Promise<LockoutAttempt | LockoutRefusal>;
  /** A complete sign-in: forgets the pair's failures (the username's delay ages out by itself). */
  succeeded(subject: LockoutSubject): void;
  /** Seconds each attempt for `username` waits now (0 below maxFailures). */
  delayS(username: string): number;
  /** Current locks and username delays: pairs, then addresses, then usernames. */
  list(): LockoutEntry[];
  /** Forgets the failures matching the filter (address as an address key); returns how many. */
  unlock(filter: LoginFailureFilter): number;
};

/** The delay after `failures` failures of one username: none below max, then 1 s doubling, capped. */
export const usernameDelayS = (failures: number, policy: Pick<LockoutPolicy, 'maxFailures' | 'maxDelayS'>): number =>
  failures < policy.maxFailures ? 0 : Math.min(policy.maxDelayS, 2 ** Math.min(30, failures - policy.maxFailures));

/** Locked (or delayed) until the oldest of the last `limit` failures leaves the window; null below the limit. */
const limitUntil = (times: readonly number[], limit: number, windowMs: number): number | null => {
  if (times.length < limit) return null;
  return (times[times.length - limit] ?? 0) + windowMs;
};

export const lockoutPolicyOf = (config: Pick<Config, 'auth'>): LockoutPolicy => ({
  maxFailures: config.auth.lockout.max_failures,
  maxFailuresPerAddress: config.auth.lockout.max_failures_per_address,
  windowS: config.auth.lockout.window_s,
  maxDelayS: config.auth.lockout.max_delay_s,
});

export const checkPolicy = (p: LockoutPolicy): void => {
  const positiveInt = (name: string, v: number): void => {
    if (!Number.isInteger(v) || v < 1) throw new Error(`auth.lockout.${name} must be a positive integer (got ${v})`);
  };
  positiveInt('max_failures', p.maxFailures);
  positiveInt('max_failures_per_address', p.maxFailuresPerAddress);
  positiveInt('window_s', p.windowS);
  if (!Number.isInteger(p.maxDelayS) || p.maxDelayS < 0) throw new Error(`auth.lockout.max_delay_s must be an integer >= 0 (got ${p.maxDelayS})`);
};

/** Failures older than the window are deleted every this many failures (and at start). */
const PRUNE_EVERY_FAILURES = 100;

export type LockoutDeps = Readonly<{
  clock: Clock;
  table: LoginFailureTable;
  policy: LockoutPolicy;
  /** How long an attempt waits for in-flight ones before it is refused as busy (default 10 s). */
  maxQueueMs?: number;
}>;

export const createLockout = (deps: LockoutDeps): Lockout => {
  const { clock, table, policy, maxQueueMs = 10_000 } = deps;
  checkPolicy(policy);
  const windowMs = policy.windowS * 1000;
  const now = (): number => Date.parse(clock.now());
  const inFlight = new Map<string, number>();
  const waiters = new Set<() => void>();
  let recorded = 0;

  const pairKey = (address: string, username: string): string => `pair:${address}\n${username}`;
  const addrKey = (address: string): string => `addr:${address}`;
  const keysOf = (address: string, username: string): string[] =>
    username === '' ? [addrKey(address)] : [addrKey(address), pairKey(address, username)];

  /** The lock in force for the subject (the longer one when both are), or null. */
  const lockOf = (address: string, username: string, t: number): Lock | null => {
    const since = t - windowMs;
    const addressTimes = table.times({ addressKey: address }, since);
    const addressUntil = limitUntil(addressTimes, policy.maxFailuresPerAddress, windowMs);
    let lock: Lock | null = addressUntil === null ? null : { scope: 'address', username: null, address, failures: addressTimes.length, untilMs: addressUntil };
    if (username !== '') {
      const pairTimes = table.times({ addressKey: address, username }, since);
      const pairUntil = limitUntil(pairTimes, policy.maxFailures, windowMs);
      if (pairUntil !== null && (lock === null || pairUntil >= lock.untilMs)) {
        lock = { scope: 'pair', username, address, failures: pairTimes.length, untilMs: pairUntil };
      }
    }
    return lock;
  };

  /** True when the attempts in flight could take the pair or the address to its limit. */
  const busy = (address: string, username: string, t: number): boolean => {
    const since = t - windowMs;
    const pending = (key: string): number => inFlight.get(key) ?? 0;
    if (table.times({ addressKey: address }, since).length + pending(addrKey(address)) >= policy.maxFailuresPerAddress) return true;
    return username !== '' && table.times({ addressKey: address, username }, since).length + pending(pairKey(address, username)) >= policy.maxFailures;
  };

  const addInFlight = (keys: readonly string[], delta: number): void => {
    for (const key of keys) {
      const n = (inFlight.get(key) ?? 0) + delta;
      if (n <= 0) inFlight.delete(key);
      else inFlight.set(key, n);
    }
  };

  /** Resolves when an attempt ends (its slot may be free now) or after `ms`. */
  const released = (ms: number): Promise<void> => new Promise((resolve) => {
    const wake = (): void => {
      clearTimeout(timer);
      waiters.delete(wake);
      resolve();
    };
    const timer = setTimeout(wake, ms);
    timer.unref?.();
    waiters.add(wake);
  });

  const delayS = (username: string): number =>
    username === '' ? 0 : usernameDelayS(table.times({ username }, now() - windowMs).length, policy);

  const refusal = (subject: LockoutSubject, lock: Lock | null, t: number): LockoutRefusal => ({
    kind: 'refused', lock, subject, retryAfterS: lock === null ? 1 : Math.max(1, Math.ceil((lock.untilMs - t) / 1000)),
  });

  const begin = async (subject: LockoutSubject): Promise<LockoutAttempt | LockoutRefusal> => {
    const address = addressKeyOf(subject.ip);
    const { username } = subject;
    const deadline = performance.now() + maxQueueMs;
    for (;;) {
      const t = now();
      const lock = lockOf(address, username, t);
      if (lock !== null) return refusal(subject, lock, t);
      if (!busy(address, username, t)) break;
      const left = deadline - performance.now();
      if (left <= 0) return refusal(subject, null, t);
      await released(left);
    }
    // No await from the check above to here: the slot is taken by the attempt that checked.
    const keys = keysOf(address, username);
    addInFlight(keys, 1);
    let open = true;
    const end = (): void => {
      if (!open) return;
      open = false;
      addInFlight(keys, -1);
      for (const wake of [...waiters]) wake();
    };
    return {
      kind: 'attempt',
      delayMs: delayS(username) * 1000,
      fail: () => {
        const t = now();
        table.record({ addressKey: address, ip: subject.ip, username, atMs: t });
        recorded += 1;
        if (recorded % PRUNE_EVERY_FAILURES === 0) table.prune(t - windowMs);
        end();
        return lockOf(address, username, t);
      },
      done: end,
    };
  };

  const list = (): LockoutEntry[] => {
    const t = now();
    const failures = table.since(t - windowMs);
    const group = (keyOf: (f: (typeof failures)[number]) => string | null): Map<string, number[]> => {
      const groups = new Map<string, number[]>();
      for (const f of failures) {
        const key = keyOf(f);
        if (key === null) continue;
        const times = groups.get(key) ?? [];
        times.push(f.atMs);
        groups.set(key, times);
      }
      return groups;
    };
    const iso = (ms: number): string => new Date(ms).toISOString();
    const retry = (until: number): number => Math.max(1, Math.ceil((until - t) / 1000));
    const entries: LockoutEntry[] = [];
    for (const [key, times] of group((f) => (f.username === '' ? null : JSON.stringify([f.addressKey, f.username])))) {
      const until = limitUntil(times, policy.maxFailures, windowMs);
      const [address, username] = JSON.parse(key) as [string, string];
      if (until !== null) entries.push({ scope: 'pair', username, address, failures: times.length, until: iso(until), retry_after_s: retry(until) });
    }
    for (const [address, times] of group((f) => f.addressKey)) {
      const until = limitUntil(times, policy.maxFailuresPerAddress, windowMs);
      if (until !== null) entries.push({ scope: 'address', username: null, address, failures: times.length, until: iso(until), retry_after_s: retry(until) });
    }
    for (const [username, times] of group((f) => (f.username === '' ? null : f.username))) {
      const until = limitUntil(times, policy.maxFailures, windowMs);
      if (until !== null) entries.push({ scope: 'username', username, address: null, failures: times.length, until: iso(until), delay_s: usernameDelayS(times.length, policy) });
    }
    return entries;
  };

  table.prune(now() - windowMs);
  return {
    policy,
    begin,
    succeeded: (subject) => {
      if (subject.username !== '') table.clear({ addressKey: addressKeyOf(subject.ip), username: subject.username });
    },
    delayS,
    list,
    unlock: (filter) => table.clear(filter),
  };
};
