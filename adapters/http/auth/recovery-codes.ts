/**
 * MFA recovery codes (DESIGN §9): 10 single-use codes shown once at setup, stored as bcrypt
 * hashes in the MfaEnrolmentStarted event; a used code is nulled by MfaRecoveryCodeUsed.
 * Format `xxxxx-xxxxx` from an unambiguous base32 alphabet: 50 random bits each.
 */
import { randomInt } from 'node:crypto';
import type { AdminHasher } from '../deps.ts';

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

export const createRecoveryCodes = async (hasher: AdminHasher): Promise<{ codes: string[]; hashes: string[] }> => {
  const codes = Array.from({ length: RECOVERY_CODE_COUNT }, generateRecoveryCode);
  // bcrypt runs on libuv's thread pool: hashing in parallel keeps setup near one hash's time.
  const hashes = await Promise.all(codes.map((c) => hasher.hash(c)));
  return { codes, hashes };
};

/** Index of the unused code that `input` matches, or -1. */
export const matchRecoveryCode = async (hasher: AdminHasher, hashes: readonly (string | null)[], input: string): Promise<number> => {
  const code = normalizeRecoveryCode(input);
  if (code === null) return -1;
  const results = await Promise.all(hashes.map((h) => (h === null ? Promise.resolve(false) : hasher.verify(code, h))));
  return results.indexOf(true);
};
