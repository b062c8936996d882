/**
 * Sign-in lockout (DESIGN §9): at most `maxFailures` failures per key within `windowS` seconds,
 * where a key is a client address (`ip:…`) or a username (`user:…`); MFA and re-authentication
 * failures count too. Once a key reaches the limit it is locked until enough of its failures
 * have aged out of the window; callers answer 429 with Retry-After.
 *
 * Attempts still being checked (bcrypt takes a while) count against the limit as well, so firing
 * a thousand guesses in parallel gets `maxFailures` of them checked, not a thousand.
 *
 * Kept in memory on purpose: it only has to outlive a brute-force run, and a restart clearing it
 * costs an attacker a restart per 6 guesses. Memory is bounded by `maxKeys` (least recently
 * failed keys are evicted first), so a flood of made-up usernames can't exhaust it.
 */
import type { Clock } from '../../../core/ports.ts';

export type LockoutAttempt = {
  /** Records the failure on every key; returns the seconds the keys are now locked (0 = not locked). */
  fail(): number;
  /** Ends the attempt without a failure (success, or a refusal that doesn't count). Idempotent. */
  done(): void;
};

export type Lockout = {
  /** Seconds until every key in `keys` may try again; 0 when none is locked. */
  retryAfter(keys: readonly string[]): number;
  /** Starts a counted attempt, or returns the seconds to wait when a key is locked. */
  begin(keys: readonly string[]): LockoutAttempt | number;
  /** Forgets a key's failures (a username after a complete sign-in). */
  reset(key: string): void;
};

export const ipKey = (ip: string): string => `ip:${ip}`;
export const userKey = (username: string): string => `user:${username}`;

export const createLockout = (deps: Readonly<{ clock: Clock; maxFailures: number; windowS: number; maxKeys?: number }>): Lockout => {
  const { clock, maxFailures, windowS, maxKeys = 100_000 } = deps;
  if (!Number.isInteger(maxFailures) || maxFailures < 1) throw new Error(`auth.lockout.max_failures must be a positive integer (got ${maxFailures})`);
  if (!Number.isFinite(windowS) || windowS <= 0) throw new Error(`auth.lockout.window_s must be positive (got ${windowS})`);
  const windowMs = windowS * 1000;
  /** Failure times (ms), oldest first; at most maxFailures kept, older ones can't matter. */
  const failures = new Map<string, number[]>();
  const inFlight = new Map<string, number>();
  const now = (): number => Date.parse(clock.now());

  const recent = (key: string, t: number): number[] => {
    const times = (failures.get(key) ?? []).filter((at) => at > t - windowMs);
    if (times.length === 0) failures.delete(key);
    else failures.set(key, times);
    return times;
  };

  /** Locked by failures alone: until the oldest of the last maxFailures leaves the window. */
  const lockedFor = (key: string, t: number): number => {
    const times = recent(key, t);
    if (times.length < maxFailures) return 0;
    const oldest = times[times.length - maxFailures] ?? t;
    return Math.max(1, Math.ceil((oldest + windowMs - t) / 1000));
  };

  /** Also busy when pending attempts could take it to the limit: try again in a second. */
  const waitFor = (key: string, t: number): number => {
    const locked = lockedFor(key, t);
    if (locked > 0) return locked;
    return (failures.get(key)?.length ?? 0) + (inFlight.get(key) ?? 0) >= maxFailures ? 1 : 0;
  };

  const retryAfter = (keys: readonly string[]): number => {
    const t = now();
    return Math.max(0, ...keys.map((k) => waitFor(k, t)));
  };

  const addInFlight = (keys: readonly string[], delta: number): void => {
    for (const key of keys) {
      const n = (inFlight.get(key) ?? 0) + delta;
      if (n <= 0) inFlight.delete(key);
      else inFlight.set(key, n);
    }
  };

  const recordFailure = (keys: readonly string[]): number => {
    const t = now();
    for (const key of keys) {
      const times = recent(key, t);
      times.push(t);
      if (times.length > maxFailures) times.splice(0, times.length - maxFailures);
      failures.delete(key); // re-insert: Map order is then least recently failed first
      failures.set(key, times);
    }
    while (failures.size > maxKeys) {
      const oldestKey = failures.keys().next().value;
      if (oldestKey === undefined) break;
      failures.delete(oldestKey);
    }
    return Math.max(0, ...keys.map((k) => lockedFor(k, t)));
  };

  return {
    retryAfter,
    begin: (keys) => {
      const wait = retryAfter(keys);
      if (wait > 0) return wait;
      addInFlight(keys, 1);
      let open = true;
      const end = (): void => {
        if (open) addInFlight(keys, -1);
        open = false;
      };
      return {
        fail: () => {
          end();
          return recordFailure(keys);
        },
        done: end,
      };
    },
    reset: (key) => { failures.delete(key); },
  };
};
