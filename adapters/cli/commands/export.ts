/** `mcm export --dir DIR`: the broker configuration as GitOps YAML files. */
import { exportBundle } from '../../../projections/gitops-export.ts';
import { writeGitopsDir } from '../../gitops/yaml-files.ts';
import { COMMON_USAGE, EXIT, loadCliConfig, parseCommandArgs, type CliCommand } from '../command.ts';
import { DIR_OPTION, DIR_USAGE, dirOption, openReadOnlyLog } from '../gitops-cli.ts';

const usage = `Usage: mcm export --dir DIR [--json]

Writes the broker configuration into DIR as YAML files: settings.yaml (anonymous access, hash
iterations), users.yaml (MQTT users with their $7$ password hashes — never passwords — and
roles), roles.yaml (roles and their rules), acls.yaml (rules of users, anonymous clients and
patterns), schemas.yaml (JSON schemas) and broker.yaml (listeners, options, bridges and
passthrough of mosquitto.conf; certificates and bridge passwords by name and reference only).
Admin users and secrets are not exported.

The output is deterministic — sorted, no ids, no timestamps — so exporting twice gives the same
bytes and a diff shows only what changed. Each file is replaced atomically; files whose bytes
would not change are left alone. Reads <data_dir>/mcm.db (read-only), with or without a
running server. Edit the files, then \`mcm plan --dir DIR\` and \`mcm apply --dir DIR\`.

Exit status: 0 written; 1 no event log or a write failed; 64 bad arguments.

Options:
${DIR_USAGE}  --json              print {dir, seq, written, unchanged} as JSON
${COMMON_USAGE}`;

export const exportCommand: CliCommand = {
  name: 'export',
  summary: 'write users, roles, ACL rules, schemas and settings as GitOps YAML files',
  usage,
  run: async (argv, io) => {
    const { values } = parseCommandArgs(argv, { ...DIR_OPTION, json: { type: 'boolean' } }, usage);
    if (values.help) {
      io.stdout(usage);
      return EXIT.OK;
    }
    const dir = dirOption(values.dir, io, usage);
    const { config } = loadCliConfig(io, values.config);
    const log = openReadOnlyLog(io, 'export', config.data_dir);
    if (log === null) return EXIT.FAILURE;
    let seq: number;
    let result;
    try {
      const state = log.store.state();
      seq = state.seq;
      result = writeGitopsDir(dir, exportBundle(state));
    } finally {
      log.close();
    }
    if (values.json) io.stdout(`${JSON.stringify({ dir, seq, ...result })}\n`);
    else {
      const what = result.written.length === 0 ? 'no file changed' : `wrote ${result.written.join(', ')}`;
      io.stdout(`exported the configuration as of seq ${seq} to ${dir}: ${what}\n`);
    }
    return EXIT.OK;
  },
};
