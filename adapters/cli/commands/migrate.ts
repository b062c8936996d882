/**
 * `mcm migrate --to dynsec|files` (issue 15): switches an installation's enforcement backend with
 * a plan. The event log is the same for both backends, so users, roles, rules and password hashes
 * move as they are; the plan names what the target cannot express (refused, nothing written) and
 * where clients will be treated differently. The switch is `mosquitto.backend` in the config
 * file, written in place (comments kept); the server applies it at its next start.
 */
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { formatBackendMigration, planBackendMigration, type Backend } from '../../../projections/backend-migration.ts';
import { writeFileAtomicSync } from '../../files/atomic-write-sync.ts';
import { createSqliteEventStore } from '../../sqlite/event-store.ts';
import { COMMON_USAGE, EXIT, loadCliConfig, parseCommandArgs, UsageError, type CliCommand } from '../command.ts';
import { openEventLog } from '../open-event-log.ts';

const usage = `Usage: mcm migrate --to dynsec|files [--dry-run] [--config FILE]

Switches where users, roles and rules are enforced: the dynamic-security plugin (dynsec) or
password_file and acl_file (files). Prints a plan first: what the target cannot express (then
nothing is changed), and where clients will be treated differently (subscriptions checked or
not; an allow that the other evaluation order lets beat a deny). Then sets mosquitto.backend in
the configuration file; restart the server (mcm server) for it to take effect. Every user keeps
its password hash: the supervised broker starts on files or a plugin file rendered from the log.

Options:
  --to BACKEND        dynsec or files
  --dry-run           print the plan, change nothing

Exit status: 0 migrated (or --dry-run with nothing refused, or already on BACKEND), 1 refused
(the plan names why) or no configuration file to write, 64 bad arguments.
${COMMON_USAGE}`;

export const migrateCommand: CliCommand = {
  name: 'migrate',
  summary: 'switch the enforcement backend (dynsec plugin or files) with a plan',
  usage,
  run: async (argv, io) => {
    const { values } = parseCommandArgs(argv, { to: { type: 'string' }, 'dry-run': { type: 'boolean' } }, usage);
    if (values.help) {
      io.stdout(usage);
      return 0;
    }
    const to = values.to;
    if (to !== 'dynsec' && to !== 'files') throw new UsageError('--to must be "dynsec" or "files"', usage);
    const { config, source } = loadCliConfig(io, values.config);
    const from: Backend = config.mosquitto.backend;
    if (from === to) {
      io.stdout(`already on the ${to} backend (${source ?? 'built-in defaults'}): nothing to do\n`);
      return EXIT.OK;
    }
    const log = openEventLog(io, config, 'migrate');
    if (log === null) return EXIT.FAILURE;
    let plan;
    try {
      const store = createSqliteEventStore({ db: log.db, snapshotEvery: 0 });
      plan = planBackendMigration(store.state(), to, config.mqtt.service_account.username);
    } finally {
      log.db.close();
    }
    const refusals = [...plan.refusals];
    if (to === 'dynsec' && config.mosquitto.mode === 'external' && (config.mosquitto.conf_fragment !== null || config.mosquitto.conf_file !== null)) {
      refusals.push('with an external broker MCM does not write its mosquitto.conf under the dynsec backend in this version: unset mosquitto.conf_fragment and conf_file first');
    }
    io.stdout(formatBackendMigration({ ...plan, refusals }, from));
    if (refusals.length > 0) {
      io.stderr(`mcm migrate: refused: nothing was changed\n`);
      return EXIT.FAILURE;
    }
    if (values['dry-run']) return EXIT.OK;
    if (source === null) {
      io.stderr('mcm migrate: no configuration file to write mosquitto.backend into: pass --config FILE (mcm config init writes one)\n');
      return EXIT.FAILURE;
    }
    const doc = parseDocument(readFileSync(source, 'utf8'));
    doc.setIn(['mosquitto', 'backend'], to);
    writeFileAtomicSync(source, doc.toString(), 0o640);
    io.stdout(`migrated: ${source} now sets mosquitto.backend: ${to}; restart the server (mcm server) for it to take effect\n`);
    return EXIT.OK;
  },
};
