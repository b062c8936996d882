/**
 * MFA sign-in challenges (DESIGN §9): after a correct password, a user with MFA gets an opaque
 * challenge instead of a token. A challenge is single use, lives 5 minutes and allows at most 5
 * code attempts. In memory: a restart only makes users type their password again.
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../../../core/ports.ts';

export const CHALLENGE_TTL_S = 300;
export const CHALLENGE_MAX_ATTEMPTS = 5;

export type MfaChallenge = { id: string; username: string; attempts: number; expiresAt: number };

export type MfaChallenges = {
  create(username: string): MfaChallenge;
  /** The live challenge, or null when unknown, expired or out of attempts (then it is dropped). */
  get(id: string): MfaChallenge | null;
  /**
   * Uses up one attempt BEFORE the code is checked (so parallel guesses can't exceed the limit)
   * and returns the challenge, or null when it is unknown, expired or out of attempts.
   */
  attempt(id: string): MfaChallenge | null;
  /** Attempts left on a live challenge (0 when gone). */
  attemptsLeft(id: string): number;
  /** Ends the challenge (after a successful code). */
  consume(id: string): void;
};

export const createMfaChallenges = (deps: Readonly<{
  clock: Clock; ttlS?: number; maxAttempts?: number; maxPending?: number;
}>): MfaChallenges => {
  const { clock, ttlS = CHALLENGE_TTL_S, maxAttempts = CHALLENGE_MAX_ATTEMPTS, maxPending = 10_000 } = deps;
  const pending = new Map<string, MfaChallenge>();
  const now = (): number => Date.parse(clock.now());

  const sweep = (t: number): void => {
    for (const [id, c] of pending) if (c.expiresAt <= t) pending.delete(id);
    while (pending.size >= maxPending) {
      const oldest = pending.keys().next().value;
      if (oldest === undefined) break;
      pending.delete(oldest);
    }
  };

  const get = (id: string): MfaChallenge | null => {
    const c = pending.get(id);
    if (!c) return null;
    if (c.expiresAt <= now() || c.attempts >= maxAttempts) {
      pending.delete(id);
      return null;
    }
    return c;
  };

  return {
    create: (username) => {
      const t = now();
      sweep(t);
      const c: MfaChallenge = { id: randomBytes(32).toString('base64url'), username, attempts: 0, expiresAt: t + ttlS * 1000 };
      pending.set(c.id, c);
      return c;
    },
    get,
    attempt: (id) => {
      const c = get(id);
      if (!c) return null;
      c.attempts += 1;
      return c;
    },
    attemptsLeft: (id) => {
      const c = get(id);
      return c ? maxAttempts - c.attempts : 0;
    },
    consume: (id) => { pending.delete(id); },
  };
};
