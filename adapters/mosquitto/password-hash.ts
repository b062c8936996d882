/**
 * Mosquitto password hashes (reference §1.2): `$7$<iterations>$<salt b64>$<hash b64>` is
 * PBKDF2-HMAC-SHA512 over the password's UTF-8 bytes with a 12-byte salt and a 64-byte key; the
 * legacy `$6$<salt b64>$<hash b64>` is one round of SHA-512(password ‖ salt). Only `$7$` is ever
 * written; `$6$` is verified so imported files keep working.
 */
import { createHash, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { DomainError, ERROR_CODES } from '../../core/errors.ts';
import type { PasswordHasher } from '../../core/ports.ts';

const pbkdf2Async = promisify(pbkdf2);

export const SALT_BYTES = 12;
export const HASH_BYTES = 64;
/** The broker reads the count with atoi into an int (reference §1.2). */
export const MAX_ITERATIONS = 2_147_483_647;

// Standard alphabet with padding only: the broker rejects URL-safe and unpadded base64
// (reference §1.1), while Buffer.from(…, 'base64') would accept both. 12 bytes → 16 chars,
// 64 bytes → 86 chars + '=='.
const SALT_B64 = /^[A-Za-z0-9+/]{16}$/;
const HASH_B64 = /^[A-Za-z0-9+/]{86}==$/;
const ITERATIONS = /^[1-9][0-9]{0,9}$/;

const checkIterations = (iterations: number): void => {
  if (!Number.isSafeInteger(iterations) || iterations < 1 || iterations > MAX_ITERATIONS) {
    throw new DomainError(ERROR_CODES.VALIDATION, `hash iterations must be an integer from 1 to ${MAX_ITERATIONS}`, [{ iterations }]);
  }
};

const passwordBytes = (password: string): Buffer => {
  // The broker hashes strlen(password) bytes of what the client sends (reference §1.2): a
  // password with NUL could never log in, so refuse to make a hash for it.
  if (password.includes('\0')) throw new DomainError(ERROR_CODES.VALIDATION, 'password must not contain NUL characters');
  return Buffer.from(password, 'utf8');
};

const checkSalt = (salt: Buffer): void => {
  if (salt.length !== SALT_BYTES) {
    throw new DomainError(ERROR_CODES.VALIDATION, `salt must be ${SALT_BYTES} bytes (the broker refuses others), got ${salt.length}`);
  }
};

/** The `$7$` hash field for a given salt: for test vectors and for verification. */
export const hashWithSalt = async (password: string, salt: Buffer, iterations: number): Promise<string> => {
  checkIterations(iterations);
  checkSalt(salt);
  const key = await pbkdf2Async(passwordBytes(password), salt, iterations, HASH_BYTES, 'sha512');
  return `$7$${iterations}$${salt.toString('base64')}$${key.toString('base64')}`;
};

/** The legacy `$6$` hash field (what `mosquitto_passwd -H sha512` writes): for test vectors only. */
export const legacy6WithSalt = (password: string, salt: Buffer): string => {
  checkSalt(salt);
  const digest = createHash('sha512').update(passwordBytes(password)).update(salt).digest();
  return `$6$${salt.toString('base64')}$${digest.toString('base64')}`;
};

/** One password-file line. Refuses what would split or inject lines (reference §1.1). */
export const formatPasswordLine = (username: string, hashField: string): string => {
  if (/[:\r\n]/.test(username)) throw new DomainError(ERROR_CODES.USERNAME_INVALID, 'username must not contain ":" or line breaks', [{ username }]);
  if (/[:\r\n]/.test(hashField)) throw new DomainError(ERROR_CODES.PASSWORD_HASH_INVALID, 'hash field must not contain ":" or line breaks');
  return `${username}:${hashField}`;
};

type Parsed =
  | { kind: 7; iterations: number; salt: Buffer; hash: Buffer }
  | { kind: 6; salt: Buffer; hash: Buffer };

/**
 * Parses a hash field in the form MCM writes and the broker reads, or returns null. Stricter than
 * the broker in one way: nothing may follow the hash (the broker ignores trailing tokens).
 */
export const parseHashField = (field: string): Parsed | null => {
  if (typeof field !== 'string' || !field.startsWith('$')) return null;
  // The broker skips empty tokens, so a trailing '$' is harmless (reference §1.1); so here.
  const tokens = field.split('$').filter((t) => t !== '');
  if (tokens[0] === '7' && tokens.length === 4) {
    const [, iter = '', salt = '', hash = ''] = tokens;
    if (!ITERATIONS.test(iter) || !SALT_B64.test(salt) || !HASH_B64.test(hash)) return null;
    const iterations = Number(iter);
    if (iterations > MAX_ITERATIONS) return null;
    return { kind: 7, iterations, salt: Buffer.from(salt, 'base64'), hash: Buffer.from(hash, 'base64') };
  }
  if (tokens[0] === '6' && tokens.length === 3) {
    const [, salt = '', hash = ''] = tokens;
    if (!SALT_B64.test(salt) || !HASH_B64.test(hash)) return null;
    return { kind: 6, salt: Buffer.from(salt, 'base64'), hash: Buffer.from(hash, 'base64') };
  }
  return null;
};

/**
 * Salts from the CSPRNG, fetched 1,024 at a time: a call per salt cost ~5 µs on the event loop,
 * a tenth of its time while a batch of 100,000 users is hashed. Each salt is its own slice of a
 * buffer that is never written again.
 */
const saltSource = (): (() => Buffer) => {
  let pool = Buffer.alloc(0);
  let at = 0;
  return () => {
    if (at + SALT_BYTES > pool.length) {
      pool = randomBytes(SALT_BYTES * 1024);
      at = 0;
    }
    at += SALT_BYTES;
    return pool.subarray(at - SALT_BYTES, at);
  };
};

export const createMosquittoHasher = (): PasswordHasher => {
  const salt = saltSource();
  return {
    hash: (password, iterations) => hashWithSalt(password, salt(), iterations),
    verify: async (password, hashField) => {
      try {
        if (typeof password !== 'string' || password.includes('\0')) return false;
        const parsed = parseHashField(hashField);
        if (!parsed) return false;
        const pw = Buffer.from(password, 'utf8');
        const actual = parsed.kind === 7
          ? await pbkdf2Async(pw, parsed.salt, parsed.iterations, HASH_BYTES, 'sha512')
          : createHash('sha512').update(pw).update(parsed.salt).digest();
        return actual.length === parsed.hash.length && timingSafeEqual(actual, parsed.hash);
      } catch {
        return false; // never throw on a malformed field (the contract of verify)
      }
    },
  };
};
