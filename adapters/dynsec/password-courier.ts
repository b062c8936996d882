/**
 * Passwords for the dynamic-security plugin of Mosquitto 2.0 (issue 15): its `createClient` and
 * `setClientPassword` take only a plaintext password (reference §6.3), while MCM's events carry
 * only the `$7$` hash. The courier wraps the MQTT password hasher: each plaintext it hashes is kept
 * in memory, keyed by the hash, until the apply that sets it in the plugin takes it, or for
 * `ttlMs` at most. Nothing is written anywhere; a restart forgets them all (the supervised broker
 * then starts on a plugin file MCM writes with the hashes, projections/dynsec-json.ts).
 */
import type { PasswordHasher } from '../../core/ports.ts';

export type PasswordCourier = Readonly<{
  /** The hasher MCM's routes use: same hashes, plus the courier keeps the plaintext. */
  hasher: PasswordHasher;
  /** The plaintext that produced `hash` lately, or null. */
  plaintextFor(hash: string): string | null;
  /** The plugin holds it now: forget it. */
  delivered(hash: string): void;
}>;

export const createPasswordCourier = (inner: PasswordHasher, opts: Readonly<{ ttlMs: number; now?: () => number }>): PasswordCourier => {
  const now = opts.now ?? Date.now;
  const kept = new Map<string, { plaintext: string; at: number }>();
  const prune = (): void => {
    const cutoff = now() - opts.ttlMs;
    for (const [hash, v] of kept) if (v.at < cutoff) kept.delete(hash);
  };
  return {
    hasher: {
      async hash(password, iterations) {
        const hash = await inner.hash(password, iterations);
        prune();
        kept.set(hash, { plaintext: password, at: now() });
        return hash;
      },
      verify: (password, hashField) => inner.verify(password, hashField),
    },
    plaintextFor(hash) {
      prune();
      return kept.get(hash)?.plaintext ?? null;
    },
    delivered(hash) { kept.delete(hash); },
  };
};
