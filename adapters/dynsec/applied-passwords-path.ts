/**
 * Where the dynamic-security worker records which password hash it gave the plugin for each
 * client (issue 15): in `secrets/`, so `mcm backup` carries it with the keys. Without it, a
 * restored data dir would not know the plugin's passwords are MCM's and would set them all again.
 * Servers before this kept it in the data dir itself: that file is moved the first time.
 */
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import type { SecretStore } from '../secrets/secret-store.ts';

export const APPLIED_PASSWORDS_NAME = 'dynsec-passwords.json';

export const appliedPasswordsPath = (dataDir: string, secrets: Pick<SecretStore, 'dir' | 'path'>): string => {
  const path = secrets.path(APPLIED_PASSWORDS_NAME);
  const legacy = join(dataDir, APPLIED_PASSWORDS_NAME);
  mkdirSync(secrets.dir, { recursive: true, mode: 0o700 });
  if (existsSync(legacy) && !existsSync(path)) renameSync(legacy, path);
  return path;
};
