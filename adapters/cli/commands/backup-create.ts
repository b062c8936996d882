/** `mcm backup create`: one file holding a consistent snapshot of the event log and the secrets. */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createBackup } from '../../backup/create-backup.ts';
import { COMMON_USAGE, EXIT, loadCliConfig, parseCommandArgs, projectFile, UsageError, type CliCommand } from '../command.ts';

const usage = `Usage: mcm backup create --output FILE [--force] [--json]

Writes a consistent snapshot of <data_dir>/mcm.db and <data_dir>/secrets/ to FILE. Safe while
\`mcm server\` runs: the database is copied as of one commit (SQLite VACUUM INTO), then checked
(integrity_check and the hash chain) before it is archived.

FILE is a tar archive (\`tar tvf FILE\` lists it): manifest.json first (MCM version, seq and
head hash of the event log, schema version, sha256 of every other entry, created_at), then
mcm.db and secrets/. It is SENSITIVE: it holds password hashes, the JWT signing secret, the
TOTP encryption key and the broker service account's password. It is written with mode 0600.

Exit status: 0 written; 1 not written (no database, FILE exists, the database fails its
check); 64 bad arguments.

Options:
  -o, --output FILE   where to write (required)
  -f, --force         replace FILE if it exists
  --json              print {output, bytes, manifest, warning} as JSON
${COMMON_USAGE}`;

export const sensitiveWarning = (file: string): string =>
  `WARNING: ${file} is sensitive: it holds password hashes and MCM's secrets (JWT signing secret, TOTP key, ` +
  'the broker service account password). It was written with mode 0600: keep it that way and store it like a password.';

export const backupCreateCommand: CliCommand = {
  name: 'create',
  summary: 'write a consistent snapshot of the event log and secrets (sensitive, 0600)',
  usage,
  run: async (argv, io) => {
    const { values } = parseCommandArgs(argv, {
      output: { type: 'string', short: 'o' },
      force: { type: 'boolean', short: 'f' },
      json: { type: 'boolean' },
    }, usage);
    if (values.help) {
      io.stdout(usage);
      return EXIT.OK;
    }
    if (values.output === undefined || values.output === '') throw new UsageError('--output FILE is required', usage);
    const { config } = loadCliConfig(io, values.config);
    const pkg = JSON.parse(readFileSync(projectFile('package.json'), 'utf8')) as { version: string };
    const output = resolve(io.cwd, values.output);
    const result = createBackup({ dataDir: config.data_dir, output, force: values.force === true, mcmVersion: pkg.version, now: new Date().toISOString() });
    const { manifest } = result;
    const warning = sensitiveWarning(output);
    if (values.json) {
      io.stdout(`${JSON.stringify({ output, bytes: result.bytes, manifest, warning })}\n`);
    } else {
      io.stdout(
        `wrote ${output} (${result.bytes} bytes)\n` +
        `  event log   seq ${manifest.seq}, head ${manifest.head_hash}\n` +
        `  database    ${manifest.database.size} bytes, sha256 ${manifest.database.sha256}\n` +
        `  secrets     ${manifest.secrets.length === 0 ? 'none' : manifest.secrets.map((s) => s.path).join(', ')}\n` +
        `${warning}\n`,
      );
    }
    return EXIT.OK;
  },
};
