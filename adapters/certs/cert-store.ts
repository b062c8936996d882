/**
 * Where the PEMs of the broker's certificates live (issue 13, DESIGN §10: "private keys stay in
 * secrets/; events hold fingerprints and references"): `<data dir>/secrets/cert.<name>.crt` and
 * `cert.<name>.key`, 0600 in the 0700 directory, written atomically. A name too long for a secret
 * file name (secret names are at most 64 characters) is stored under a hash of it
 * (`certh.<hash>.crt`; no certificate name starts a file that way). The event log only ever
 * holds the certificate's facts (fingerprint, subject, dates).
 */
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { CERTIFICATE_NAME } from '../../core/broker-config/certificates.ts';
import type { SecretStore } from '../secrets/secret-store.ts';

export type CertStore = {
  read(name: string): { cert: string; key: string | null } | null;
  write(name: string, cert: string, key: string | null): void;
  remove(name: string): void;
};

/** Secret file names (adapters/secrets/secret-store.ts) are at most 64 characters. */
const SECRET_NAME_MAX = 64;

/** The two secret names of certificate `name`. */
export const certSecretNames = (name: string): { cert: string; key: string } => {
  if (!CERTIFICATE_NAME.test(name)) throw new Error(`invalid certificate name ${JSON.stringify(name)}`);
  const base = `cert.${name}`;
  if (`${base}.crt`.length <= SECRET_NAME_MAX) return { cert: `${base}.crt`, key: `${base}.key` };
  const hashed = `certh.${createHash('sha256').update(name, 'utf8').digest('hex').slice(0, 40)}`;
  return { cert: `${hashed}.crt`, key: `${hashed}.key` };
};

export const createCertStore = (secrets: SecretStore): CertStore => ({
  read(name) {
    const files = certSecretNames(name);
    const cert = secrets.read(files.cert);
    if (cert === null) return null;
    return { cert: cert.toString('utf8'), key: secrets.read(files.key)?.toString('utf8') ?? null };
  },
  write(name, cert, key) {
    const files = certSecretNames(name);
    // Key first: a reader between the two writes sees the old certificate with the new key
    // only for a replacement, and replacements are written before the event that announces them.
    if (key === null) rmSync(secrets.path(files.key), { force: true });
    else secrets.write(files.key, key);
    secrets.write(files.cert, cert);
  },
  remove(name) {
    const files = certSecretNames(name);
    rmSync(secrets.path(files.cert), { force: true });
    rmSync(secrets.path(files.key), { force: true });
  },
});
