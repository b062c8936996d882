/** `mcm plan --dir DIR`: what `mcm apply --dir DIR` would change, for people or as JSON. */
import { createSecretStore } from '../../secrets/secret-store.ts';
import { brokerContextOf } from '../../broker-config/broker-context.ts';
import { createBridgePasswords } from '../../secrets/bridge-passwords.ts';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { formatPlan, planBundle } from '../../../core/gitops-plan.ts';
import { initialState } from '../../../core/state.ts';
import { COMMON_USAGE, EXIT, loadCliConfig, parseCommandArgs, type CliCommand } from '../command.ts';
import { DIR_OPTION, DIR_USAGE, dirOption, openReadOnlyLog, readDirOrReport } from '../gitops-cli.ts';

const usage = `Usage: mcm plan --dir DIR [--json]

Compares the GitOps files in DIR (as written by \`mcm export\`) with the configuration in
<data_dir>/mcm.db and prints what applying them would change: settings; roles, users and ACL
rules added, changed (password rotated, roles granted or revoked, disabled) or removed; schemas;
and who gains or loses which topic access (the effective rules of the rendered ACL file, per
user, for anonymous clients and for pattern rules). Changes nothing.

A missing file means that section is empty (as in a new data dir). Every problem with the files
(YAML, unknown keys, bad names or topic filters, references to undefined roles or users) is
listed with its file, line and path. With no event log yet, plans against an empty one.

Exit status: 0 no changes; 2 there are changes; 1 invalid files or another error; 64 bad arguments.

Options:
${DIR_USAGE}  --json              print {seq, changes, plan_text, commands_count} as JSON
${COMMON_USAGE}`;

export const planCommand: CliCommand = {
  name: 'plan',
  summary: 'show what applying a GitOps dir would change (exit 2 when there are changes)',
  usage,
  run: async (argv, io) => {
    const { values } = parseCommandArgs(argv, { ...DIR_OPTION, json: { type: 'boolean' } }, usage);
    if (values.help) {
      io.stdout(usage);
      return EXIT.OK;
    }
    const dir = dirOption(values.dir, io, usage);
    const { config } = loadCliConfig(io, values.config);
    const serviceAccount = config.mqtt.service_account.username;
    const bundle = readDirOrReport(io, 'plan', dir, serviceAccount);
    if (bundle === null) return EXIT.FAILURE;
    const passwords = createBridgePasswords(createSecretStore(config.data_dir));
    const planOptions = { serviceAccount, broker: brokerContextOf(config, null), bridgePasswordExists: (ref: string) => passwords.read(ref) !== null };
    let plan;
    let seq = 0;
    if (existsSync(join(config.data_dir, 'mcm.db'))) {
      const log = openReadOnlyLog(io, 'plan', config.data_dir);
      if (log === null) return EXIT.FAILURE;
      try {
        const state = log.store.state();
        seq = state.seq;
        plan = planBundle(state, bundle, planOptions);
      } finally {
        log.close();
      }
    } else {
      io.stderr(`note: no event log at ${join(config.data_dir, 'mcm.db')} yet: planning against an empty configuration\n`);
      plan = planBundle(initialState(), bundle, planOptions);
    }
    const text = formatPlan(plan.changes);
    if (values.json) io.stdout(`${JSON.stringify({ seq, changes: plan.changes, plan_text: text, commands_count: plan.commands.length })}\n`);
    else io.stdout(text);
    return plan.commands.length === 0 ? EXIT.OK : EXIT.CHANGES;
  },
};
