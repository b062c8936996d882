/**
 * Bridge passwords (issue "Broker configuration as events"): the remote broker's password must be
 * in mosquitto.conf as `remote_password` (Mosquitto has no password-file form for bridges), but it
 * never enters the event log. It is kept in `secrets/` under a random reference; the event carries
 * only the reference, and the renderer gets the password from here when it writes the file.
 * A new password gets a new reference, so the configuration (and the generation) changes with it.
 */
import { randomBytes } from 'node:crypto';
import type { SecretStore } from './secret-store.ts';

export const BRIDGE_PASSWORD_REF = /^bridge-pw\.[0-9a-f]{16}$/;

/** What mosquitto.conf can carry on a `remote_password` line: no whitespace, no control characters. */
export const bridgePasswordProblem = (password: unknown): string | null => {
  if (typeof password !== 'string' || password.length === 0) return 'the remote password must be a non-empty string';
  if (Buffer.byteLength(password, 'utf8') > 1024) return 'the remote password must be at most 1024 bytes';
  // mosquitto.conf is split on spaces and read line by line (reference §7): no quoting exists.
  if (/[\s\p{Cc}]/u.test(password)) return 'the remote password cannot contain spaces or control characters (mosquitto.conf has no quoting)';
  return null;
};

export type BridgePasswords = {
  /** Stores the password and returns its new reference. */
  store(password: string): string;
  /** The password behind a reference, or null when it is gone. */
  read(ref: string): string | null;
};

export const createBridgePasswords = (secrets: SecretStore): BridgePasswords => ({
  store(password) {
    const problem = bridgePasswordProblem(password);
    if (problem !== null) throw new Error(problem);
    const ref = `bridge-pw.${randomBytes(8).toString('hex')}`;
    secrets.write(ref, password);
    return ref;
  },
  read(ref) {
    if (!BRIDGE_PASSWORD_REF.test(ref)) return null;
    return secrets.read(ref)?.toString('utf8') ?? null;
  },
});
