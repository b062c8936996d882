/** `mcm backup restore`: checks a backup whole, then swaps it into the data dir atomically. */
import { resolve } from 'node:path';
import { restoreBackup } from '../../backup/restore-backup.ts';
import { COMMON_USAGE, EXIT, loadCliConfig, parseCommandArgs, UsageError, type CliCommand } from '../command.ts';

const usage = `Usage: mcm backup restore --input FILE [--force] [--json]

Restores a file written by \`mcm backup create\` into <data_dir>. Before anything in the data
dir changes, the backup is checked: every entry against the manifest (sha256, size), the
database with PRAGMA integrity_check and its hash chain, and the chain head against the seq
and head hash in the manifest. Then mcm.db and secrets/ are swapped in atomically (extracted
into a temp dir on the same filesystem, fsynced, renamed); the previous ones, with any stale
mcm.db-wal/-shm, are moved to <data_dir>/replaced-<time>/ (delete it once you are satisfied).

Refuses while \`mcm server\` runs on the data dir (stop it first), and refuses to replace an
existing database without --force. The next \`mcm server\` renders the broker's files from
the restored log and applies them.

Exit status: 0 restored; 1 refused or failed (server running, database exists, damaged or
foreign file); 64 bad arguments.

Options:
  -i, --input FILE    the backup to restore (required)
  -f, --force         replace an existing database (it is kept in replaced-<time>/)
  --json              print {data_dir, seq, head_hash, replaced_dir, manifest} as JSON
${COMMON_USAGE}`;

export const backupRestoreCommand: CliCommand = {
  name: 'restore',
  summary: 'check a backup and restore it into the data dir (server stopped)',
  usage,
  run: async (argv, io) => {
    const { values } = parseCommandArgs(argv, {
      input: { type: 'string', short: 'i' },
      force: { type: 'boolean', short: 'f' },
      json: { type: 'boolean' },
    }, usage);
    if (values.help) {
      io.stdout(usage);
      return EXIT.OK;
    }
    if (values.input === undefined || values.input === '') throw new UsageError('--input FILE is required', usage);
    const { config } = loadCliConfig(io, values.config);
    const input = resolve(io.cwd, values.input);
    const { manifest, replacedDir } = restoreBackup({ dataDir: config.data_dir, input, force: values.force === true, now: new Date().toISOString() });
    if (values.json) {
      io.stdout(`${JSON.stringify({ data_dir: config.data_dir, seq: manifest.seq, head_hash: manifest.head_hash, replaced_dir: replacedDir, manifest })}\n`);
    } else {
      io.stdout(
        `restored ${input} into ${config.data_dir}\n` +
        `  event log   seq ${manifest.seq}, head ${manifest.head_hash} (chain verified)\n` +
        `  backed up   ${manifest.created_at} by MCM ${manifest.mcm_version}\n` +
        `  secrets     ${manifest.secrets.length === 0 ? 'none' : manifest.secrets.map((s) => s.path).join(', ')}\n` +
        (replacedDir ? `  previous    database and secrets moved to ${replacedDir}\n` : ''),
      );
    }
    return EXIT.OK;
  },
};
