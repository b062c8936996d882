/**
 * Name rules: MQTT usernames (password-file entries), role names, admin usernames, descriptions.
 * Each rule has a stable id (`rule` in the error details) and a message that names it, so an
 * operator reading `MCM_ERR_USERNAME_INVALID` knows exactly which character to remove.
 */
import { DomainError, ERROR_CODES } from './errors.ts';

export type NameViolation = Readonly<{ rule: string; message: string }>;

/** Longest MQTT username MCM accepts, in UTF-8 bytes (DESIGN §5; Mosquitto's own cap is 65535). */
export const USERNAME_MAX_BYTES = 256;
export const ROLE_NAME_MAX = 128;
export const ADMIN_USERNAME_MAX = 64;
export const DESCRIPTION_MAX = 1024;

/** UTF-8 byte length without Buffer (core stays free of node:*); lone surrogates count as 3 (U+FFFD). */
export const utf8Length = (s: string): number => {
  let bytes = 0;
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    bytes += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
  }
  return bytes;
};

const codePoint = (ch: string): string => `U+${(ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;

/** With the u flag a surrogate only matches when it is unpaired. */
const LONE_SURROGATE = /\p{Cs}/u;
/** C0 (incl. NUL, TAB, CR, LF), DEL and C1: iscntrl() in mosquitto_passwd plus the C1 block. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/u;
const BOM = '\uFEFF';

/**
 * Index of the first Unicode noncharacter (U+FDD0–U+FDEF, U+xFFFE, U+xFFFF), or -1.
 * mosquitto_validate_utf8 refuses them in every MQTT string, so such a CONNECT could never succeed.
 */
const noncharacterIndex = (s: string): number => {
  for (let i = 0; i < s.length; i++) {
    const cp = s.codePointAt(i) ?? 0;
    if ((cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) === 0xfffe) return i;
    if (cp > 0xffff) i++;
  }
  return -1;
};

/** The first MQTT username rule `name` breaks, or null when it is a valid username. */
export const usernameViolation = (name: unknown): NameViolation | null => {
  if (typeof name !== 'string') return { rule: 'type', message: 'username must be a string' };
  if (name.length === 0) return { rule: 'empty', message: 'username must not be empty' };
  // The client sends the username as an MQTT UTF-8 string [MQTT-1.5.3-1]; a lone surrogate has no UTF-8 form.
  const lone = LONE_SURROGATE.exec(name);
  if (lone) return { rule: 'utf8', message: `username must be valid UTF-8 (lone surrogate at index ${lone.index})` };
  const bytes = utf8Length(name);
  if (bytes > USERNAME_MAX_BYTES) {
    return { rule: 'max-bytes', message: `username must be at most ${USERNAME_MAX_BYTES} bytes of UTF-8 (got ${bytes})` };
  }
  const ctl = CONTROL.exec(name);
  if (ctl) {
    return {
      rule: ctl[0] === '\u0000' ? 'nul' : 'control-character',
      message: `username must not contain control characters (${codePoint(ctl[0])} at index ${ctl.index})`,
    };
  }
  const nonchar = noncharacterIndex(name);
  if (nonchar >= 0) {
    const at = `${codePoint(name.slice(nonchar))} at index ${nonchar}`;
    return { rule: 'noncharacter', message: `username must not contain Unicode noncharacters (${at}): the broker refuses them as malformed UTF-8` };
  }
  // The first ':' ends the username in the password file (reference §1.1, §1.3).
  if (name.includes(':')) return { rule: 'colon', message: 'username must not contain ":" (it separates name and hash in the password file)' };
  // A BOM becomes part of the name and nobody can type it (reference §1.1 item 9).
  if (name.includes(BOM)) return { rule: 'bom', message: 'username must not contain a byte order mark (U+FEFF)' };
  // The broker trims the name it reads from the file, so the client's untrimmed name never matches (reference §1.1 item 3).
  if (/^\s|\s$/u.test(name)) return { rule: 'whitespace-edge', message: 'username must not start or end with whitespace' };
  // Column-1 '#' makes the password-file line a comment (reference §1.1 item 1).
  if (name.startsWith('#')) return { rule: 'leading-hash', message: 'username must not start with "#" (the password file would read the line as a comment)' };
  // With any pattern rule the broker denies such users everything (reference §1.3, §2.3 "dangerous username").
  const wildcard = /[+#]/.exec(name);
  if (wildcard) return { rule: 'wildcard', message: `username must not contain "${wildcard[0]}" (an MQTT wildcard)` };
  // '%u' substitution would let the name cross topic levels (reference §1.3).
  if (name.includes('/')) return { rule: 'slash', message: 'username must not contain "/" (a topic level separator)' };
  return null;
};

/** Why `name` is not a valid MQTT username, or null when it is (DESIGN §5, reference §1.3). */
export const usernameProblem = (name: unknown): string | null => usernameViolation(name)?.message ?? null;

/** Error details keep at most this many characters of an offending value (a 1 MB name stays out of logs). */
const MAX_DETAIL_CHARS = 300;

const invalid = (code: string, field: string, value: unknown, v: NameViolation): DomainError =>
  new DomainError(code, v.message, [
    { field, value: typeof value === 'string' && value.length > MAX_DETAIL_CHARS ? `${value.slice(0, MAX_DETAIL_CHARS)}…` : value, rule: v.rule },
  ]);

/** Returns the username when valid; throws MCM_ERR_USERNAME_INVALID naming the broken rule. */
export const assertUsername = (name: unknown, field = 'username'): string => {
  const v = usernameViolation(name);
  if (v) throw invalid(ERROR_CODES.USERNAME_INVALID, field, name, v);
  return name as string;
};

/**
 * Shared rule for names that travel in URLs and principals: a small ASCII alphabet, and never
 * "." or ".." which URL normalisation would swallow (`/roles/..`).
 */
const slugViolation = (what: string, name: unknown, max: number, alphabet: RegExp, allowed: string): NameViolation | null => {
  if (typeof name !== 'string') return { rule: 'type', message: `${what} must be a string` };
  if (name.length === 0) return { rule: 'empty', message: `${what} must not be empty` };
  if (name.length > max) return { rule: 'max-length', message: `${what} must be at most ${max} characters (got ${name.length})` };
  if (!alphabet.test(name)) return { rule: 'charset', message: `${what} may contain only ${allowed}` };
  if (name === '.' || name === '..') return { rule: 'dots', message: `${what} must not be "." or ".."` };
  return null;
};

export const roleNameViolation = (name: unknown): NameViolation | null =>
  slugViolation('role name', name, ROLE_NAME_MAX, /^[A-Za-z0-9._-]+$/, 'letters, digits, ".", "_" and "-"');

/** Why `name` is not a valid role name (it appears in `role:<name>` principals and URLs), or null. */
export const roleNameProblem = (name: unknown): string | null => roleNameViolation(name)?.message ?? null;

export const assertRoleName = (name: unknown, field = 'name'): string => {
  const v = roleNameViolation(name);
  if (v) throw invalid(ERROR_CODES.ROLE_NAME_INVALID, field, name, v);
  return name as string;
};

export const API_TOKEN_NAME_MAX = 64;

export const apiTokenNameViolation = (name: unknown): NameViolation | null =>
  slugViolation('token name', name, API_TOKEN_NAME_MAX, /^[A-Za-z0-9._-]+$/, 'letters, digits, ".", "_" and "-"');

/** API token names (issue 17): 1–64 of [A-Za-z0-9._-]; throws MCM_ERR_TOKEN_NAME_INVALID. */
export const assertApiTokenName = (name: unknown, field = 'name'): string => {
  const v = apiTokenNameViolation(name);
  if (v) throw invalid(ERROR_CODES.TOKEN_NAME_INVALID, field, name, v);
  return name as string;
};

export const adminUsernameViolation = (name: unknown): NameViolation | null =>
  slugViolation('admin username', name, ADMIN_USERNAME_MAX, /^[A-Za-z0-9._@-]+$/, 'letters, digits, ".", "_", "@" and "-"');

export const adminUsernameProblem = (name: unknown): string | null => adminUsernameViolation(name)?.message ?? null;

/** Admin usernames: 1–64 of [A-Za-z0-9._@-]; throws MCM_ERR_USERNAME_INVALID. */
export const assertAdminUsername = (name: unknown, field = 'username'): string => {
  const v = adminUsernameViolation(name);
  if (v) throw invalid(ERROR_CODES.USERNAME_INVALID, field, name, v);
  return name as string;
};

export const descriptionViolation = (value: unknown): NameViolation | null => {
  if (typeof value !== 'string') return { rule: 'type', message: 'description must be a string' };
  const chars = [...value].length;
  if (chars > DESCRIPTION_MAX) {
    return { rule: 'max-length', message: `description must be at most ${DESCRIPTION_MAX} characters (got ${chars})` };
  }
  const ctl = CONTROL.exec(value);
  if (ctl) return { rule: 'control-character', message: `description must not contain control characters (${codePoint(ctl[0])} at index ${ctl.index})` };
  const lone = LONE_SURROGATE.exec(value);
  if (lone) return { rule: 'utf8', message: `description must be valid UTF-8 (lone surrogate at index ${lone.index})` };
  return null;
};

/** A free-text description: a string of at most 1024 characters with no control characters. */
export const assertDescription = (value: unknown, field = 'description'): string => {
  const v = descriptionViolation(value);
  if (v) throw invalid(ERROR_CODES.DESCRIPTION_INVALID, field, value, v);
  return value as string;
};

/**
 * Usernames MCM writes into the password file for its own proofs (external mode: one marker line
 * `mcm-pwfile-<16 hex>` whose login proves which password file the broker runs, issue 12). No MQTT
 * user may take such a name: it would collide with the marker line.
 */
export const PASSWORD_MARKER_PREFIX = 'mcm-pwfile-';
export const isMarkerUsername = (name: string): boolean => /^mcm-pwfile-[0-9a-f]{16}$/.test(name);
