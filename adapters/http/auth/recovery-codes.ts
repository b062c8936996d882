/**
 * MFA recovery codes (DESIGN §9): 10 single-use codes shown once at setup, stored hashed in the
 * MfaEnrolmentStarted event; a used code is nulled by MfaRecoveryCodeUsed. Format `xxxxx-xxxxx`
 * from an unambiguous base32 alphabet: 50 random bits each.
 *
 * Stored as a keyed HMAC-SHA256 (`hmac-sha256$<hex>`, key in secrets/recovery-codes.key, never in
 * the log): 50 random bits can't be guessed offline without the key, and checking an attempt is
 * one HMAC, not ten bcrypt runs (issue "second hardening round"). Enrolments made before keep
 * their bcrypt hashes, which are still checked.
 */
import { createHmac, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import type { SecretStore } from '../../secrets/secret-store.ts';
import type { AdminHasher } from '../deps.ts';

export const RECOVERY_KEY_NAME = 'recovery-codes.key';
const KEYED_PREFIX = 'hmac-sha256$';

export type RecoveryKey = Buffer;

export const recoveryKeyOf = (secrets: Pick<SecretStore, 'getOrCreate'>): RecoveryKey => secrets.getOrCreate(RECOVERY_KEY_NAME, () => randomBytes(32));

/** The stored form of a (normalised) code. */
export const keyedRecoveryHash = (key: RecoveryKey, code: string): string =>
  `${KEYED_PREFIX}${createHmac('sha256', key).update(code, 'utf8').digest('hex')}`;

export const RECOVERY_CODE_COUNT = 10;
const ALPHABET = 'abcdefghijkmnpqrstuvwxyz23456789'; // no l, o, 0, 1
const RECOVERY_CODE = new RegExp(`^[${ALPHABET}]{5}-[${ALPHABET}]{5}$`);

export const generateRecoveryCode = (): string => {
  const chars = Array.from({ length: 10 }, () => ALPHABET[randomInt(ALPHABET.length)]);
  return `${chars.slice(0, 5).join('')}-${chars.slice(5).join('')}`;
};

/** Lower case, spaces and dashes ignored: what a person types from a printout. Null if it can't be one. */
export const normalizeRecoveryCode = (input: string): string | null => {
  const compact = input.toLowerCase().replace(/[\s-]/g, '');
  const code = `${compact.slice(0, 5)}-${compact.slice(5)}`;
  return RECOVERY_CODE.test(code) ? code : null;
};

export const createRecoveryCodes = (key: RecoveryKey): { codes: string[]; hashes: string[] } => {
  const codes = Array.from({ length: RECOVERY_CODE_COUNT }, generateRecoveryCode);
  return { codes, hashes: codes.map((c) => keyedRecoveryHash(key, c)) };
};

const sameText = (a: string, b: string): boolean => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/** The unused code `input` matches: its index and the stored hash it matched (carried by UseRecoveryCode), or null. */
export const matchRecoveryCode = async (
  deps: Readonly<{ hasher: AdminHasher; key: RecoveryKey }>,
  hashes: readonly (string | null)[],
  input: string,
): Promise<{ index: number; codeHash: string } | null> => {
  const code = normalizeRecoveryCode(input);
  if (code === null) return null;
  const keyed = keyedRecoveryHash(deps.key, code);
  for (const [index, h] of hashes.entries()) {
    if (h !== null && h.startsWith(KEYED_PREFIX) && sameText(h, keyed)) return { index, codeHash: h };
  }
  // Enrolments from before keyed hashes: bcrypt, checked in parallel on libuv's pool.
  const legacy = await Promise.all(hashes.map((h) => (h === null || h.startsWith(KEYED_PREFIX) ? Promise.resolve(false) : deps.hasher.verify(code, h))));
  const index = legacy.indexOf(true);
  const codeHash = index < 0 ? null : hashes[index];
  return codeHash === null || codeHash === undefined ? null : { index, codeHash };
};
