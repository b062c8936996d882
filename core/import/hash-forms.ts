/**
 * The password-hash fields an existing Mosquitto's password_file may hold, as MCM keeps them:
 * byte for byte (issue 11, "lossless"). Mosquitto 2.0 reads `$6$` and `$7$` with a 12-byte salt
 * (reference §1.1, §1.2); 2.1 adds `$7$` with other salt lengths (its mosquitto_passwd writes 64
 * bytes) and argon2id (reference §8). Anything else — a plain-text password, an unknown type, a
 * field that does not decode — is refused: the broker drops (2.0) or refuses (2.1) such a line.
 */

export type HashForm = 'pbkdf2-sha512' | 'sha512' | 'argon2id';

export type HashField = Readonly<{ form: HashForm; saltBytes: number }>;

/** Largest iteration count: the broker reads the field with atoi into an int. */
const INT32_MAX = 2_147_483_647;
/** PBKDF2-SHA512 and SHA-512 both yield 64 bytes (reference §1.2). */
const HASH_BYTES = 64;
/** The only salt length Mosquitto 2.0 decodes (reference §1.1 decoding table). */
export const SALT_BYTES_2_0 = 12;

/**
 * Decoded length of strict standard base64 WITH padding (what OpenSSL's BIO decoder accepted in
 * 2.0; unpadded and URL-safe input were rejected, reference §1.2), or null.
 */
export const paddedBase64Length = (s: string): number | null => {
  if (s.length === 0 || s.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) return null;
  const pad = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0;
  return (s.length / 4) * 3 - pad;
};

/** Decoded length of standard base64 WITHOUT padding (the PHC string format argon2 uses), or null. */
export const unpaddedBase64Length = (s: string): number | null => {
  if (s.length === 0 || s.length % 4 === 1 || !/^[A-Za-z0-9+/]+$/.test(s)) return null;
  return Math.floor((s.length * 3) / 4);
};

const ARGON2_PARAMS = /^m=([0-9]{1,10}),t=([0-9]{1,10}),p=([0-9]{1,10})$/;

const positiveInt = (s: string): boolean => /^[0-9]{1,10}$/.test(s) && Number(s) >= 1 && Number(s) <= INT32_MAX;

export type HashCheck = { ok: true; field: HashField } | { ok: false; problem: string };

const bad = (problem: string): HashCheck => ({ ok: false, problem });

/**
 * Classifies a password field (the text after `username:`). Only the exact layouts the tools
 * write are accepted, so the field MCM renders is the field it read.
 */
export const checkHashField = (field: string): HashCheck => {
  if (field === '') return bad('empty password field: the broker removes the entry');
  const tokens = field.split('$');
  if (tokens[0] !== '' || tokens.length < 3) {
    return bad('not a password hash (a plain-text password?): the broker removes the entry ("Invalid password hash type"); hash it with mosquitto_passwd first');
  }
  const type = tokens[1];
  if (type === '7') {
    if (tokens.length !== 5) return bad('malformed $7$ hash: expected $7$<iterations>$<salt base64>$<hash base64>');
    const [, , iterations = '', salt = '', hash = ''] = tokens;
    if (!positiveInt(iterations)) return bad(`invalid hash iterations "${iterations}": must be a decimal integer from 1 to ${INT32_MAX} (the broker removes the entry)`);
    const saltBytes = paddedBase64Length(salt);
    if (saltBytes === null || saltBytes < 1) return bad('the salt is not standard padded base64: the broker removes the entry ("Unable to decode password salt")');
    if (paddedBase64Length(hash) !== HASH_BYTES) return bad(`the hash does not decode to ${HASH_BYTES} bytes of standard padded base64: the broker removes the entry`);
    return { ok: true, field: { form: 'pbkdf2-sha512', saltBytes } };
  }
  if (type === '6') {
    if (tokens.length !== 4) return bad('malformed $6$ hash: expected $6$<salt base64>$<hash base64>');
    const [, , salt = '', hash = ''] = tokens;
    const saltBytes = paddedBase64Length(salt);
    if (saltBytes === null || saltBytes < 1) return bad('the salt is not standard padded base64: the broker removes the entry ("Unable to decode password salt")');
    if (paddedBase64Length(hash) !== HASH_BYTES) return bad(`the hash does not decode to ${HASH_BYTES} bytes of standard padded base64: the broker removes the entry`);
    return { ok: true, field: { form: 'sha512', saltBytes } };
  }
  if (type === 'argon2id') {
    // PHC string: $argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt b64 unpadded>$<hash b64 unpadded>
    if (tokens.length !== 6) return bad('malformed argon2id hash: expected $argon2id$v=19$m=…,t=…,p=…$<salt>$<hash>');
    const [, , version = '', params = '', salt = '', hash = ''] = tokens;
    if (version !== 'v=19') return bad(`unsupported argon2id version "${version}": expected v=19`);
    const m = ARGON2_PARAMS.exec(params);
    if (!m || !m.slice(1).every(positiveInt)) return bad(`invalid argon2id parameters "${params}": expected m=<n>,t=<n>,p=<n>`);
    const saltBytes = unpaddedBase64Length(salt);
    if (saltBytes === null || saltBytes < 1) return bad('the argon2id salt is not unpadded standard base64');
    const hashBytes = unpaddedBase64Length(hash);
    if (hashBytes === null || hashBytes < 1) return bad('the argon2id hash is not unpadded standard base64');
    return { ok: true, field: { form: 'argon2id', saltBytes } };
  }
  return bad(`hash type "$${type ?? ''}$" is not $6$, $7$ or $argon2id$: the broker removes the entry ("Invalid password hash type")`);
};

/** Whether a Mosquitto 2.0 broker can read the field; it drops the others with "removing entry" (reference §8). */
export const readableBy20 = (f: HashField): boolean => f.form !== 'argon2id' && f.saltBytes === SALT_BYTES_2_0;
