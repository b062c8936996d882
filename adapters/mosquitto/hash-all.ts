/**
 * Many `$7$` hashes at once (POST /batch: 100,000 users). The hasher's pbkdf2 is asynchronous, so
 * the libuv pool spreads the hashes over every core. Only a window of them is kept in flight:
 * queueing all 100,000 at once holds every job's buffers and promise until its turn and was both
 * slower and 2.7× the memory (2 cores, 100,000 hashes: 4.0 s and 455 MiB peak, against 3.5 s and
 * 170 MiB with 64 in flight; 16 in flight starved the pool, 3.8 s).
 */
import type { PasswordHasher } from '../../core/ports.ts';

export const HASH_WINDOW = 64;

export type HashAllOptions = Readonly<{
  window?: number;
  /** What to throw when the hash of `passwords[index]` fails (default: the hasher's error). */
  failed?: (err: unknown, index: number) => unknown;
}>;

/** The hash of each password, in order; '' where the password is undefined. No new hash starts after a failure. */
export const hashAll = async (
  hasher: PasswordHasher,
  passwords: readonly (string | undefined)[],
  iterations: number,
  opts: HashAllOptions = {},
): Promise<string[]> => {
  const out = new Array<string>(passwords.length).fill('');
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < passwords.length) {
      const index = next++;
      const password = passwords[index];
      if (password === undefined) continue;
      try {
        out[index] = await hasher.hash(password, iterations);
      } catch (err) {
        failed = true;
        throw opts.failed ? opts.failed(err, index) : err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.window ?? HASH_WINDOW, passwords.length)) }, worker));
  return out;
};
