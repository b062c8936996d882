/**
 * What `mcm export`, `mcm plan` and `mcm apply` share: the --dir option, reading and checking a
 * GitOps dir (every problem printed, one per line), and the event log opened read-only (reading
 * beside a running server is safe in WAL mode; only writing must go through it).
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { GitopsBundle } from '../../core/gitops-bundle.ts';
import { createSqliteEventStore, type SqliteEventStore } from '../sqlite/event-store.ts';
import { formatProblem, readGitopsDir } from '../gitops/yaml-files.ts';
import { UsageError, type CliIo } from './command.ts';

export const DIR_USAGE = '  -d, --dir DIR       the GitOps directory (settings.yaml, users.yaml, roles.yaml, acls.yaml, schemas.yaml, broker.yaml)\n';
export const DIR_OPTION = { dir: { type: 'string', short: 'd' } } as const;

/** --dir, resolved against the working directory. */
export const dirOption = (value: string | undefined, io: CliIo, usage: string): string => {
  if (value === undefined || value === '') throw new UsageError('--dir DIR is required', usage);
  return resolve(io.cwd, value);
};

/** The checked bundle of `dir`, or null after printing every problem to stderr. */
export const readDirOrReport = (io: CliIo, command: string, dir: string, serviceAccount: string): GitopsBundle | null => {
  const result = readGitopsDir(dir, { serviceAccount });
  if (result.ok) return result.bundle;
  const n = result.problems.length;
  io.stderr(`mcm ${command}: ${dir}: ${n} problem${n === 1 ? '' : 's'}, nothing was changed:\n`);
  for (const p of result.problems) io.stderr(`  ${formatProblem(p)}\n`);
  return null;
};

export type ReadOnlyLog = { store: SqliteEventStore; close(): void };

/** `<data_dir>/mcm.db` opened read-only, or null after saying it is missing. */
export const openReadOnlyLog = (io: CliIo, command: string, dataDir: string): ReadOnlyLog | null => {
  const path = join(dataDir, 'mcm.db');
  if (!existsSync(path)) {
    io.stderr(`mcm ${command}: no event log at ${path} (check data_dir / MCM_DATA_DIR; \`mcm server\` creates it on its first start)\n`);
    return null;
  }
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    db.exec('PRAGMA busy_timeout = 5000');
    return { store: createSqliteEventStore({ db, snapshotEvery: 0 }), close: () => db.close() };
  } catch (e) {
    db.close();
    throw e;
  }
};
