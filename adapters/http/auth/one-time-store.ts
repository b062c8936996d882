/**
 * Short-lived, single-use values behind a random 256-bit id: the pending single sign-on flows
 * (state, nonce, PKCE verifier: 10 minutes) and the sign-in results the browser collects after
 * the callback (1 minute). In memory: a restart only means signing in again. Bounded: past `max`
 * the oldest entry goes, so a flood of started flows can't grow the process.
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../../../core/ports.ts';

export type OneTimeStore<T> = {
  /** Keeps `value` and returns its id (43 base64url characters). */
  put(value: T): string;
  /** The value, once; null when unknown, used or expired. */
  take(id: string): T | null;
};

export const createOneTimeStore = <T>(opts: Readonly<{ clock: Clock; ttlMs: number; max: number }>): OneTimeStore<T> => {
  const entries = new Map<string, { value: T; expiresAt: number }>();
  const now = (): number => Date.parse(opts.clock.now());
  return {
    put: (value) => {
      const t = now();
      for (const [id, e] of entries) if (e.expiresAt <= t) entries.delete(id);
      while (entries.size >= opts.max) {
        const oldest = entries.keys().next();
        if (oldest.done) break;
        entries.delete(oldest.value);
      }
      const id = randomBytes(32).toString('base64url');
      entries.set(id, { value, expiresAt: t + opts.ttlMs });
      return id;
    },
    take: (id) => {
      const e = entries.get(id);
      if (!e) return null;
      entries.delete(id);
      return e.expiresAt > now() ? e.value : null;
    },
  };
};
