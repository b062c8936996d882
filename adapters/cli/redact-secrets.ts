/**
 * Redaction for output meant for people (DESIGN §4, STYLE principle 12): payload fields that hold
 * hashes, secrets or ciphertext are replaced, whatever their depth. The envelope's own chain
 * `hash`/`prev_hash` are not payload and stay visible.
 */
export const REDACTED = '[redacted]';
export const SECRET_KEY = /hash|secret|ciphertext/i;

export const redactSecrets = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(redactSecrets);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, SECRET_KEY.test(k) ? REDACTED : redactSecrets(v)]),
  );
};
