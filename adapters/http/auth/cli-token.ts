/**
 * The local CLI token (DESIGN §8): the server writes a new random token to
 * `<data dir>/secrets/cli.token` (0600) at every start; the CLI on the same host reads it and
 * sends `Authorization: Bearer mcm-cli.<token>`. Only the OS user that runs the server can read
 * the file, so holding the token is equivalent to being admin on this host.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { SecretStore } from '../../secrets/secret-store.ts';

export const CLI_TOKEN_SECRET = 'cli.token';
/** Tells a CLI token from a JWT in the same Authorization header. */
export const CLI_TOKEN_PREFIX = 'mcm-cli.';
/** The OS user running the CLI; recorded as the actor id (`{kind: 'cli', id}`). */
export const CLI_USER_HEADER = 'X-MCM-CLI-User';

/** Writes a fresh token (32 random bytes, hex) and returns it; the previous one stops working. */
export const issueCliToken = (secrets: SecretStore): string => {
  const token = randomBytes(32).toString('hex');
  secrets.write(CLI_TOKEN_SECRET, `${token}\n`);
  return token;
};

/** The current token, or null when none was issued (no server ever started on this data dir). */
export const readCliToken = (secrets: SecretStore): string | null => {
  const raw = secrets.read(CLI_TOKEN_SECRET);
  const token = raw?.toString('utf8').trim() ?? '';
  return token === '' ? null : token;
};

/**
 * True when `presented` (without the `mcm-cli.` prefix) is the current token. Read from the file
 * on each call, so a token issued by a restart replaces the old one at once.
 */
export const matchesCliToken = (secrets: SecretStore, presented: string): boolean => {
  const current = readCliToken(secrets);
  if (current === null) return false;
  const a = Buffer.from(presented, 'utf8');
  const b = Buffer.from(current, 'utf8');
  // The length is no secret (always 64 hex digits); timingSafeEqual needs equal lengths.
  return a.length === b.length && timingSafeEqual(a, b);
};
