/**
 * `mcm backup create`: a consistent online snapshot of the data dir in one file (docs/operations.md).
 *
 * The database is copied with SQLite's `VACUUM INTO` from a read-only connection: it runs inside
 * one read transaction, so the copy is exactly the log as of one commit even while `mcm server`
 * keeps appending (WAL readers never block the writer). The copy is then checked
 * (integrity_check, hash chain) and the manifest describes the copy itself — its seq and head
 * hash are read from it, never from the live database, which may have moved on meanwhile.
 *
 * `<data_dir>/secrets/` goes in too (DESIGN §4: without it a restore would lose MFA and the
 * broker's service account), except `cli.token`, which the server writes anew at every start.
 * The archive (ustar, adapters/backup/tar.ts) is written 0600 to a temp file beside the output,
 * fsynced and renamed, so a crash never leaves a half-written backup under the final name.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, closeSync, existsSync, fchmodSync, fsyncSync, lstatSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { BACKUP_ERROR_CODES, backupError } from './backup-errors.ts';
import { checkDatabaseFile } from './check-database.ts';
import {
  BACKUP_FORMAT, BACKUP_FORMAT_VERSION, DATABASE_NAME, isSecretName, MANIFEST_NAME, SECRETS_DIR, SENSITIVE_NOTE,
  type BackupManifest, type ManifestFile,
} from './manifest.ts';
import { createTarWriter } from './tar.ts';

/** Secrets that are not worth restoring: regenerated at every server start. */
const EPHEMERAL_SECRETS = new Set(['cli.token']);

export type CreateBackupOptions = Readonly<{
  dataDir: string;
  output: string;
  force?: boolean;
  mcmVersion: string;
  /** ISO-8601 UTC, from the caller's clock. */
  now: string;
}>;

export type CreateBackupResult = Readonly<{ manifest: BackupManifest; output: string; bytes: number }>;

/** sha256 of a file read in 1 MiB chunks (the database may be large). */
const fileSha256 = (path: string): string => {
  const hash = createHash('sha256');
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(1024 * 1024);
    for (let n = readSync(fd, buf); n > 0; n = readSync(fd, buf)) hash.update(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
};

const fsyncDir = (dir: string): void => {
  const fd = openSync(dir, 'r');
  try { fsyncSync(fd); } finally { closeSync(fd); }
};

/** Regular files of <data_dir>/secrets/ with names the secret store could have written. */
const listSecrets = (dataDir: string): { name: string; data: Buffer }[] => {
  const dir = join(dataDir, SECRETS_DIR);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => isSecretName(name) && !EPHEMERAL_SECRETS.has(name) && lstatSync(join(dir, name)).isFile())
    .sort()
    .map((name) => ({ name, data: readFileSync(join(dir, name)) }));
};

/** Copies the database as of one commit into `target` (which must not exist) and checks the copy. */
const snapshotDatabase = (source: string, target: string): { seq: number; head_hash: string; schema_version: number } => {
  const db = new DatabaseSync(source, { readOnly: true });
  try {
    db.exec('PRAGMA busy_timeout = 5000');
    db.prepare('VACUUM INTO ?').run(target);
  } finally {
    db.close();
  }
  chmodSync(target, 0o600);
  const report = checkDatabaseFile(target);
  if (!report.ok) {
    throw backupError(BACKUP_ERROR_CODES.CORRUPT, `the database ${source} fails its check, so it was not backed up: ${report.problem} (see \`mcm events verify\`, \`mcm doctor\`)`);
  }
  return { seq: report.seq, head_hash: report.head_hash, schema_version: report.schema_version };
};

export const createBackup = (opts: CreateBackupOptions): CreateBackupResult => {
  const dbPath = join(opts.dataDir, DATABASE_NAME);
  if (!existsSync(dbPath)) {
    throw backupError(BACKUP_ERROR_CODES.NO_DATABASE, `no event log at ${dbPath} (check data_dir / MCM_DATA_DIR)`);
  }
  if (existsSync(opts.output)) {
    if (!opts.force) throw backupError(BACKUP_ERROR_CODES.OUTPUT_EXISTS, `${opts.output} already exists; not overwriting it (use --force to replace it)`);
    if (!statSync(opts.output).isFile()) throw backupError(BACKUP_ERROR_CODES.OUTPUT_EXISTS, `${opts.output} exists and is not a regular file`);
  }
  const outDir = dirname(opts.output);
  if (!existsSync(outDir) || !statSync(outDir).isDirectory()) throw new Error(`cannot write ${opts.output}: the directory ${outDir} does not exist`);
  // The snapshot sits beside the output (same filesystem, room for it) in a private 0700 dir.
  const work = mkdtempSync(join(outDir, '.mcm-backup-'));
  const tmp = join(outDir, `.${basename(opts.output)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const snapshot = join(work, DATABASE_NAME);
    const snap = snapshotDatabase(dbPath, snapshot);
    const secrets = listSecrets(opts.dataDir);
    const mtime = Math.floor(Date.parse(opts.now) / 1000);
    const database: ManifestFile = { path: DATABASE_NAME, size: statSync(snapshot).size, sha256: fileSha256(snapshot) };
    const manifest: BackupManifest = {
      format: BACKUP_FORMAT,
      format_version: BACKUP_FORMAT_VERSION,
      sensitive: SENSITIVE_NOTE,
      mcm_version: opts.mcmVersion,
      created_at: opts.now,
      seq: snap.seq,
      head_hash: snap.head_hash,
      schema_version: snap.schema_version,
      database,
      secrets: secrets.map((s) => ({
        path: `${SECRETS_DIR}/${s.name}`, size: s.data.length, sha256: createHash('sha256').update(s.data).digest('hex'),
      })),
    };
    const fd = openSync(tmp, 'wx', 0o600);
    try {
      fchmodSync(fd, 0o600); // whatever the umask
      const tar = createTarWriter(fd);
      tar.addBuffer(MANIFEST_NAME, Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`, 'utf8'), 0o600, mtime);
      const written = tar.addFileFrom(DATABASE_NAME, snapshot, 0o600, mtime);
      if (written.sha256 !== database.sha256) throw new Error(`snapshot ${snapshot} changed while it was archived`);
      tar.addDirectory(SECRETS_DIR, 0o700, mtime);
      for (const s of secrets) tar.addBuffer(`${SECRETS_DIR}/${s.name}`, s.data, 0o600, mtime);
      tar.finish();
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, opts.output);
    fsyncDir(outDir);
    return { manifest, output: opts.output, bytes: statSync(opts.output).size };
  } catch (e) {
    try { unlinkSync(tmp); } catch { /* not created */ }
    throw e;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
};
