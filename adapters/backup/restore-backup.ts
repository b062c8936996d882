/**
 * `mcm backup restore`: puts a backup made by `mcm backup create` back into a data dir.
 *
 * Nothing in the data dir changes until the backup has been proven whole: every entry is checked
 * against the manifest (names, sizes, sha256), then the database copy passes `PRAGMA
 * integrity_check` and the hash chain, and its chain head is the seq and hash the manifest names.
 * The files are extracted into a temp dir inside the data dir (same filesystem, so the final
 * renames are atomic), fsynced, and only then swapped in: the previous `mcm.db` (with its -wal and
 * -shm, which must never be replayed onto another database) and `secrets/` are moved aside into
 * `<data_dir>/replaced-<time>/`, then `secrets/` and finally `mcm.db` are renamed into place.
 * The rename of `mcm.db` is the commit point; re-running the restore after a crash is safe.
 */
import { chownSync, closeSync, existsSync, fsyncSync, mkdirSync, mkdtempSync, openSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DomainError } from '../../core/errors.ts';
import { readServerInfo, SERVER_LOCK_ERROR_CODES, type ServerInfo } from '../cli/server-lock.ts';
import { SCHEMA_VERSION } from '../sqlite/schema.ts';
import { BACKUP_ERROR_CODES, backupError } from './backup-errors.ts';
import { checkDatabaseFile } from './check-database.ts';
import { DATABASE_NAME, MANIFEST_NAME, parseManifest, SECRETS_DIR, type BackupManifest, type ManifestFile } from './manifest.ts';
import { extractTarEntry, readTarEntries, readTarEntry, TarFormatError, type TarEntry } from './tar.ts';

export type RestoreBackupOptions = Readonly<{
  dataDir: string;
  input: string;
  force?: boolean;
  /** ISO-8601 UTC, names the folder the replaced files are moved to. */
  now: string;
  /** Who runs on the data dir; defaults to reading <data_dir>/server.lock (adapters/cli/server-lock.ts). */
  serverRunning?: (dataDir: string) => ServerInfo | null;
}>;

export type RestoreBackupResult = Readonly<{
  manifest: BackupManifest;
  /** Where the previous database and secrets were moved, or null when there were none. */
  replacedDir: string | null;
}>;

const MAX_MANIFEST_BYTES = 1024 * 1024;
const DB_SIDE_FILES = ['-wal', '-shm', '-journal'];

const fsyncPath = (path: string): void => {
  const fd = openSync(path, 'r');
  try { fsyncSync(fd); } finally { closeSync(fd); }
};

const invalid = (message: string): Error => backupError(BACKUP_ERROR_CODES.INVALID, message);

/** The archive's entries, checked against its manifest: nothing missing, nothing extra. */
const readArchive = (input: string): { manifest: BackupManifest; files: { file: ManifestFile; entry: TarEntry }[] } => {
  if (!existsSync(input)) throw invalid(`no such file: ${input}`);
  let entries: TarEntry[];
  try {
    entries = readTarEntries(input);
  } catch (e) {
    if (e instanceof TarFormatError) throw invalid(`${input} is not a readable MCM backup: ${e.message}`);
    throw e;
  }
  const [first, ...rest] = entries;
  if (!first || first.name !== MANIFEST_NAME || first.type !== 'file') throw invalid(`${input} is not an MCM backup: its first entry must be ${MANIFEST_NAME}`);
  const manifest = parseManifest(readTarEntry(input, first, MAX_MANIFEST_BYTES));
  if (manifest.schema_version > SCHEMA_VERSION) {
    throw invalid(`the backup's database has schema version ${manifest.schema_version}, newer than this MCM understands (${SCHEMA_VERSION}): restore it with MCM ${manifest.mcm_version} or later`);
  }
  const expected = new Map<string, ManifestFile>([[manifest.database.path, manifest.database], ...manifest.secrets.map((s) => [s.path, s] as const)]);
  const files: { file: ManifestFile; entry: TarEntry }[] = [];
  for (const entry of rest) {
    if (entry.type === 'directory') {
      if (entry.name !== `${SECRETS_DIR}/`) throw invalid(`unexpected directory ${JSON.stringify(entry.name)} in the backup`);
      continue;
    }
    const file = expected.get(entry.name);
    if (!file) throw invalid(`unexpected entry ${JSON.stringify(entry.name)}: not listed in the manifest`);
    if (entry.size !== file.size) throw invalid(`${entry.name} is ${entry.size} bytes, the manifest says ${file.size}`);
    expected.delete(entry.name);
    files.push({ file, entry });
  }
  if (expected.size > 0) throw invalid(`the backup lacks ${[...expected.keys()].join(', ')}, which its manifest lists (truncated?)`);
  return { manifest, files };
};

const extract = (input: string, entry: TarEntry, file: ManifestFile, target: string): void => {
  const fd = openSync(target, 'wx', 0o600);
  try {
    const sha = extractTarEntry(input, entry, fd);
    if (sha !== file.sha256) throw invalid(`${file.path}: sha256 ${sha} does not match the manifest (${file.sha256}): the backup is damaged`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
};

const assertNoServer = (opts: RestoreBackupOptions): void => {
  const server = (opts.serverRunning ?? readServerInfo)(opts.dataDir);
  if (server) {
    throw new DomainError(SERVER_LOCK_ERROR_CODES.SERVER_RUNNING,
      `mcm server is running on ${opts.dataDir} (pid ${server.pid}, ${server.url}): stop it first, restore, then start it again`,
      [{ pid: server.pid, url: server.url }]);
  }
};

const assertNoDatabase = (opts: RestoreBackupOptions): void => {
  const db = join(opts.dataDir, DATABASE_NAME);
  if (!opts.force && existsSync(db)) {
    throw backupError(BACKUP_ERROR_CODES.TARGET_EXISTS,
      `${db} already exists; not replacing it (use --force: the current database and secrets are then moved to ${opts.dataDir}/replaced-<time>/)`);
  }
};

/** Moves the current database files and secrets aside; returns the folder, or null when there was nothing. */
const moveAside = (dataDir: string, now: string): string | null => {
  const names = [DATABASE_NAME, ...DB_SIDE_FILES.map((s) => `${DATABASE_NAME}${s}`), SECRETS_DIR].filter((n) => existsSync(join(dataDir, n)));
  if (names.length === 0) return null;
  const stamp = now.replace(/[:.]/g, '-');
  let dir = join(dataDir, `replaced-${stamp}`);
  for (let i = 2; existsSync(dir); i++) dir = join(dataDir, `replaced-${stamp}-${i}`);
  mkdirSync(dir, { mode: 0o700 });
  for (const n of names) renameSync(join(dataDir, n), join(dir, n));
  return dir;
};

export const restoreBackup = (opts: RestoreBackupOptions): RestoreBackupResult => {
  assertNoServer(opts);
  assertNoDatabase(opts);
  const { manifest, files } = readArchive(opts.input);

  mkdirSync(opts.dataDir, { recursive: true, mode: 0o750 });
  const work = mkdtempSync(join(opts.dataDir, '.restore-'));
  try {
    mkdirSync(join(work, SECRETS_DIR), { mode: 0o700 });
    for (const { file, entry } of files) extract(opts.input, entry, file, join(work, file.path));
    fsyncPath(join(work, SECRETS_DIR));
    fsyncPath(work);

    const report = checkDatabaseFile(join(work, DATABASE_NAME));
    if (!report.ok) throw backupError(BACKUP_ERROR_CODES.CORRUPT, `the database in ${opts.input} fails its check: ${report.problem}`);
    if (report.seq !== manifest.seq || report.head_hash !== manifest.head_hash) {
      throw invalid(`the manifest says seq ${manifest.seq} (head ${manifest.head_hash}) but the database ends at seq ${report.seq} (head ${report.head_hash})`);
    }

    // Files restored by root belong to whoever owns the data dir (e.g. the systemd unit's user).
    if (process.getuid?.() === 0) {
      const owner = statSync(opts.dataDir);
      for (const p of [join(work, DATABASE_NAME), join(work, SECRETS_DIR), ...manifest.secrets.map((s) => join(work, s.path))]) {
        chownSync(p, owner.uid, owner.gid);
      }
    }

    // Checked again right before the swap: the first checks may be minutes old on a big backup.
    assertNoServer(opts);
    assertNoDatabase(opts);
    const replacedDir = moveAside(opts.dataDir, opts.now);
    renameSync(join(work, SECRETS_DIR), join(opts.dataDir, SECRETS_DIR));
    renameSync(join(work, DATABASE_NAME), join(opts.dataDir, DATABASE_NAME));
    fsyncPath(opts.dataDir);
    return { manifest, replacedDir };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
};
