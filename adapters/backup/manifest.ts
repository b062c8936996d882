/**
 * The manifest of an MCM backup: the archive's first entry, `manifest.json`. It says what the
 * database snapshot holds (seq and head hash of its hash chain, DESIGN §4), which MCM wrote it,
 * and the sha256 of every other entry, so a restore can prove it got exactly what was backed up.
 */
import { BACKUP_ERROR_CODES, backupError } from './backup-errors.ts';

export const MANIFEST_NAME = 'manifest.json';
export const DATABASE_NAME = 'mcm.db';
export const SECRETS_DIR = 'secrets';
export const BACKUP_FORMAT = 'mcm-backup';
export const BACKUP_FORMAT_VERSION = 1;

/** Said in the manifest itself, so whoever opens the archive is told what it holds. */
export const SENSITIVE_NOTE =
  'SENSITIVE: this archive holds the MCM database (MQTT and admin password hashes) and <data_dir>/secrets/ ' +
  '(JWT signing secret, TOTP encryption key, the broker service account password). Store it like a password.';

export type ManifestFile = { path: string; size: number; sha256: string };

export type BackupManifest = {
  format: typeof BACKUP_FORMAT;
  format_version: number;
  sensitive: string;
  mcm_version: string;
  created_at: string;
  /** The last seq in the snapshot (0 for an empty log) and its chain hash (64 zeros when empty). */
  seq: number;
  head_hash: string;
  /** `PRAGMA user_version` of the snapshot (adapters/sqlite/schema.ts). */
  schema_version: number;
  database: ManifestFile;
  secrets: ManifestFile[];
};

const SECRET_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const HEX64 = /^[0-9a-f]{64}$/;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const fileProblems = (v: unknown, where: string): string[] => {
  if (!isObject(v)) return [`${where} must be an object`];
  const problems: string[] = [];
  if (typeof v['path'] !== 'string') problems.push(`${where}.path must be a string`);
  if (!Number.isSafeInteger(v['size']) || (v['size'] as number) < 0) problems.push(`${where}.size must be an integer >= 0`);
  if (typeof v['sha256'] !== 'string' || !HEX64.test(v['sha256'])) problems.push(`${where}.sha256 must be 64 hex digits`);
  return problems;
};

/** Parses and checks `manifest.json`; every problem is listed in one MCM_ERR_BACKUP_INVALID. */
export const parseManifest = (raw: Buffer): BackupManifest => {
  let v: unknown;
  try {
    v = JSON.parse(raw.toString('utf8'));
  } catch {
    throw backupError(BACKUP_ERROR_CODES.INVALID, `${MANIFEST_NAME} is not JSON`);
  }
  if (!isObject(v) || v['format'] !== BACKUP_FORMAT) throw backupError(BACKUP_ERROR_CODES.INVALID, `${MANIFEST_NAME} is not an MCM backup manifest (format must be "${BACKUP_FORMAT}")`);
  const problems: string[] = [];
  if (v['format_version'] !== BACKUP_FORMAT_VERSION) {
    problems.push(`format_version ${JSON.stringify(v['format_version'])} is not supported (this MCM reads ${BACKUP_FORMAT_VERSION})`);
  }
  for (const key of ['mcm_version', 'created_at', 'sensitive'] as const) if (typeof v[key] !== 'string') problems.push(`${key} must be a string`);
  if (!Number.isSafeInteger(v['seq']) || (v['seq'] as number) < 0) problems.push('seq must be an integer >= 0');
  if (!Number.isSafeInteger(v['schema_version']) || (v['schema_version'] as number) < 1) problems.push('schema_version must be an integer >= 1');
  if (typeof v['head_hash'] !== 'string' || !HEX64.test(v['head_hash'])) problems.push('head_hash must be 64 hex digits');
  problems.push(...fileProblems(v['database'], 'database'));
  if (isObject(v['database']) && v['database']['path'] !== DATABASE_NAME) problems.push(`database.path must be "${DATABASE_NAME}"`);
  if (!Array.isArray(v['secrets'])) problems.push('secrets must be an array');
  else {
    const seen = new Set<string>();
    v['secrets'].forEach((s: unknown, i: number) => {
      problems.push(...fileProblems(s, `secrets[${i}]`));
      const path = isObject(s) ? s['path'] : undefined;
      const name = typeof path === 'string' && path.startsWith(`${SECRETS_DIR}/`) ? path.slice(SECRETS_DIR.length + 1) : '';
      if (typeof path === 'string' && !SECRET_NAME.test(name)) problems.push(`secrets[${i}].path must be ${SECRETS_DIR}/<name>, got ${JSON.stringify(path)}`);
      if (typeof path === 'string' && seen.has(path)) problems.push(`secrets[${i}].path ${JSON.stringify(path)} is listed twice`);
      if (typeof path === 'string') seen.add(path);
    });
  }
  if (problems.length > 0) {
    throw backupError(BACKUP_ERROR_CODES.INVALID, `${MANIFEST_NAME} is invalid: ${problems.join('; ')}`, problems.map((p) => ({ problem: p })));
  }
  return v as unknown as BackupManifest;
};

/** True for the names a secret file may have inside <data_dir>/secrets/ (adapters/secrets/secret-store.ts). */
export const isSecretName = (name: string): boolean => SECRET_NAME.test(name);
