/**
 * Secrets that must never enter the event log (DESIGN §4): the JWT secret, the key that encrypts
 * TOTP secrets and the service account's password, the CLI token. They live in
 * `<data dir>/secrets/` (0700), one file each (0600), written atomically.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomicSync } from '../files/atomic-write-sync.ts';

export type SecretStore = {
  dir: string;
  path(name: string): string;
  read(name: string): Buffer | null;
  write(name: string, value: Buffer | string): void;
  /** Reads the secret, or creates it with `generate()` on first use. */
  getOrCreate(name: string, generate?: () => Buffer | string): Buffer;
};

const NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

export const createSecretStore = (dataDir: string): SecretStore => {
  const dir = join(dataDir, 'secrets');
  const ensureDir = (): void => {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
  };
  const path = (name: string): string => {
    if (!NAME.test(name)) throw new Error(`invalid secret name ${JSON.stringify(name)}`);
    return join(dir, name);
  };
  const read = (name: string): Buffer | null => {
    const p = path(name);
    return existsSync(p) ? readFileSync(p) : null;
  };
  const write = (name: string, value: Buffer | string): void => {
    ensureDir();
    writeFileAtomicSync(path(name), value, 0o600);
  };
  return {
    dir,
    path,
    read,
    write,
    getOrCreate: (name, generate = () => randomBytes(32)) => {
      const existing = read(name);
      if (existing) return existing;
      const value = generate();
      write(name, value);
      return Buffer.isBuffer(value) ? value : Buffer.from(value);
    },
  };
};
