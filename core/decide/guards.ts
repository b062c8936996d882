/**
 * Checks shared by the deciders. Each throws a DomainError with a stable code and a sentence an
 * operator can act on; nothing here reads the clock or changes state.
 */
import { checkHashField } from '../import/hash-forms.ts';
import { ACCESS_VALUES, type Access, type AclRule, type Principal } from '../acl-types.ts';
import { DomainError, ERROR_CODES } from '../errors.ts';
import { own } from '../evolve/records.ts';
import { rulesByPrincipal } from '../evolve/rule-index.ts';
import { assertDescription } from '../names.ts';
import type { BrokerConfig, MqttUser, Role } from '../state.ts';

export { own };

/**
 * A value as it appears in a message: JSON, cut to 100 characters. Never throws (BigInt, cycles),
 * so a bad value can't turn a DomainError into a TypeError.
 */
export const show = (value: unknown): string => {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = typeof value;
  }
  return text.length > 100 ? `${text.slice(0, 100)}…` : text;
};

/** `"a", "b", "c"` — at most `max` names, then "and N more", so a message stays readable. */
export const nameList = (names: readonly string[], max = 10): string => {
  const shown = names.slice(0, max).join(', ');
  return names.length > max ? `${shown} and ${names.length - max} more` : shown;
};

export const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

export const requireMqttUser = (state: BrokerConfig, username: unknown): MqttUser => {
  const user = typeof username === 'string' ? own(state.users, username) : undefined;
  if (!user) {
    throw new DomainError(ERROR_CODES.MQTT_USER_NOT_FOUND, `MQTT user ${show(username)} does not exist`, [{ username }]);
  }
  return user;
};

export const requireRole = (state: BrokerConfig, name: unknown, field = 'role'): Role => {
  const role = typeof name === 'string' ? own(state.roles, name) : undefined;
  if (!role) throw new DomainError(ERROR_CODES.ROLE_NOT_FOUND, `role ${show(name)} does not exist`, [{ field, role: name }]);
  return role;
};

/** Undefined stays undefined (field not given); anything else must be a valid description. */
export const optionalDescription = (value: unknown, field = 'description'): string | undefined =>
  value === undefined ? undefined : assertDescription(value, field);

export const assertBoolean = (value: unknown, field: string, code: string = ERROR_CODES.VALIDATION): boolean => {
  if (typeof value !== 'boolean') {
    throw new DomainError(code, `${field} must be true or false (got ${show(value)})`, [{ field, value }]);
  }
  return value;
};

/** Ids of rules and schemas: positive integers assigned by decide. */
export const assertId = (value: unknown, field = 'id'): number => {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new DomainError(ERROR_CODES.VALIDATION, `${field} must be a positive integer (got ${show(value)})`, [{ field, value }]);
  }
  return value;
};

/**
 * A password-file hash field the broker reads, kept byte for byte (issue "Adopt an existing
 * Mosquitto"): `$7$<iterations>$<salt b64>$<64-byte hash b64>` (what MCM writes: 12-byte salt;
 * 2.1 writes 64), legacy `$6$`, or argon2id — core/import/hash-forms.ts says exactly which. The
 * empty string is a user without a password line (imported from an acl_file alone; GitOps carries
 * it back). Anything else — a plain-text password, a field that does not decode — is refused:
 * the broker drops (2.0) or refuses (2.1) such a line (reference §1.1, §8).
 */
export const assertMosquittoHash = (value: unknown, field = 'passwordHash'): string => {
  if (value === '') return value;
  const check = typeof value === 'string' ? checkHashField(value) : null;
  if (check === null || !check.ok) {
    // The value is a hash, not a secret, but it is still kept out of the error details.
    throw new DomainError(
      ERROR_CODES.PASSWORD_HASH_INVALID,
      `${field} must be a Mosquitto hash field ($7$<iterations>$<salt base64>$<hash base64>, $6$… or $argon2id$…)${check && !check.ok ? `: ${check.problem}` : ''}`,
      [{ field, rule: 'mosquitto-hash' }],
    );
  }
  return value as string;
};

/** bcrypt modular-crypt string: `$2a$`, `$2b$` or `$2y$`, a two-digit cost, 22 salt + 31 hash chars. */
const BCRYPT_HASH = /^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$/;

export const isBcryptHash = (value: unknown): value is string => typeof value === 'string' && BCRYPT_HASH.test(value);

/**
 * A recovery code's stored form: `hmac-sha256$<64 hex>` (keyed HMAC, key in secrets/: one cheap
 * comparison per attempt instead of ten bcrypt runs) or, for enrolments made before, bcrypt.
 */
export const isRecoveryCodeHash = (value: unknown): value is string =>
  isBcryptHash(value) || (typeof value === 'string' && /^hmac-sha256\$[0-9a-f]{64}$/.test(value));

export const assertBcryptHash = (value: unknown, field = 'passwordHash'): string => {
  if (!isBcryptHash(value)) {
    throw new DomainError(ERROR_CODES.PASSWORD_HASH_INVALID, `${field} must be a bcrypt hash ($2b$<cost>$…)`, [{ field, rule: 'bcrypt' }]);
  }
  return value;
};

export const assertAccess = (value: unknown, field = 'access'): Access => {
  if (typeof value !== 'string' || !(ACCESS_VALUES as readonly string[]).includes(value)) {
    throw new DomainError(
      ERROR_CODES.ACCESS_INVALID,
      `${field} must be one of ${ACCESS_VALUES.join(', ')} (got ${show(value)})`,
      [{ field, value, allowed: [...ACCESS_VALUES] }],
    );
  }
  return value as Access;
};

/** Identity of a rule inside one principal: Mosquitto gains nothing from two equal lines. */
export const ruleKey = (topic: string, access: Access): string => `${access} ${topic}`;

/** A principal's rules in id order. */
export const rulesOf = (state: BrokerConfig, principal: Principal): AclRule[] =>
  [...rulesByPrincipal(state.rules, principal).values()].sort((a, b) => a.id - b.id);
