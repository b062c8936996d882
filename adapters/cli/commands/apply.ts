/**
 * `mcm apply --dir DIR [--yes]`: the plan of a GitOps dir, appended as ONE batch with actor
 * `{kind: 'gitops', id: 'dir:<DIR>'}` — all of it or nothing. Through the running server's API
 * when there is one (then it waits until the broker runs the result), else on the data dir.
 */
import { createSecretStore } from '../../secrets/secret-store.ts';
import { brokerConfigManaged, brokerContextOf } from '../../broker-config/broker-context.ts';
import { createBridgePasswords } from '../../secrets/bridge-passwords.ts';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Actor } from '../../../core/events.ts';
import type { GitopsBundle } from '../../../core/gitops-bundle.ts';
import type { EventStore } from '../../../core/ports.ts';
import type { Config } from '../../config/config.ts';
import { applyGitops, planGitops, type GitopsApplyOutcome, type GitopsDeps, type GitopsPlanOutcome } from '../../gitops/apply-bundle.ts';
import { createSqliteEventStore } from '../../sqlite/event-store.ts';
import { openDatabase } from '../../sqlite/open-database.ts';
import { connectToServer } from '../api-client.ts';
import { COMMON_USAGE, EXIT, intOption, loadCliConfig, parseCommandArgs, type CliCommand, type CliIo } from '../command.ts';
import { osUser } from '../data-access.ts';
import { DIR_OPTION, DIR_USAGE, dirOption, readDirOrReport } from '../gitops-cli.ts';
import { assertNoServer, readServerInfo, type ServerInfo } from '../server-lock.ts';
import { emptyStore, serverCertOf, ttyConfirm, waitForBroker } from '../server-apply.ts';

const DEFAULT_TIMEOUT_S = 60;

const usage = `Usage: mcm apply --dir DIR [--yes] [--timeout SECONDS]

Prints the plan of the GitOps files in DIR (see \`mcm plan\`), asks for confirmation, then
appends the whole change to the event log as one batch (actor gitops, id dir:<DIR>): every
command or none — if any item is refused, nothing changes and the failing item is named.

With a running MCM server on the data dir the change goes through its API and mcm waits until
the broker runs it (proved by the server's probes) or the apply fails. Without one it is
written to <data_dir>/mcm.db (created when missing) and applied when the server starts.

Without --yes, asks on a terminal; with no terminal, refuses (use --yes).

Exit status: 0 applied, or nothing to do; 1 invalid files, refused, cancelled, the broker
apply failed or did not finish in time; 64 bad arguments.

Options:
${DIR_USAGE}  -y, --yes           apply without asking
  --timeout SECONDS   how long to wait for the broker apply (default ${DEFAULT_TIMEOUT_S})
${COMMON_USAGE}`;

export type ApplyCommandOptions = Readonly<{
  /** True when a person can answer (stdin and stderr are terminals). */
  interactive?: () => boolean;
  /** Asks `question`; true only for the answer "yes". */
  confirm?: (question: string) => Promise<boolean>;
  pollMs?: number;
}>;

type Ask = (io: CliIo, plan: GitopsPlanOutcome) => Promise<boolean>;

const appended = (out: GitopsApplyOutcome): string => {
  const first = out.seq - out.events_count + 1;
  return `applied: ${out.events_count} event${out.events_count === 1 ? '' : 's'} appended as one batch (seq ${first === out.seq ? out.seq : `${first}-${out.seq}`})\n`;
};

const viaServer = async (io: CliIo, config: Config, server: ServerInfo, dir: string, bundle: GitopsBundle, ask: Ask, timeoutS: number, pollMs: number): Promise<number> => {
  const client = connectToServer(config.data_dir, server, { user: osUser(), serverCert: serverCertOf(config) });
  const plan = (await client.request('POST', '/plan', { bundle })).body as GitopsPlanOutcome;
  io.stdout(plan.plan_text);
  if (plan.commands_count === 0) return EXIT.OK;
  if (!(await ask(io, plan))) return EXIT.FAILURE;
  const out = (await client.request('POST', '/apply', { bundle, source: `dir:${dir}`, expected_seq: plan.seq })).body as GitopsApplyOutcome;
  io.stdout(appended(out));
  return waitForBroker(io, client, { command: 'apply', timeoutS, pollMs });
};

const direct = async (io: CliIo, config: Config, dir: string, bundle: GitopsBundle, ask: Ask): Promise<number> => {
  const dataDir = config.data_dir;
  const path = join(dataDir, 'mcm.db');
  const passwords = createBridgePasswords(createSecretStore(dataDir));
  const deps = (store: EventStore): GitopsDeps => ({
    store, clock: { now: () => new Date().toISOString() }, serviceAccount: config.mqtt.service_account.username, backend: config.mosquitto.backend,
    broker: brokerContextOf(config, null), brokerManaged: brokerConfigManaged(config), bridgePasswordExists: (ref) => passwords.read(ref) !== null,
  });
  // A new data dir's event log is created only once there is something to write into it.
  const fresh = !existsSync(path);
  let db = fresh ? null : openDatabase(path);
  try {
    // No snapshots from the CLI: they are the server's start-up cache (DESIGN §4).
    const plan = planGitops(deps(db ? createSqliteEventStore({ db, snapshotEvery: 0 }) : emptyStore()), bundle);
    io.stdout(plan.plan_text);
    if (plan.commands_count === 0) return EXIT.OK;
    if (!(await ask(io, plan))) return EXIT.FAILURE;
    // No server a moment ago; one started while we asked would make us a second writer.
    assertNoServer(dataDir);
    db ??= openDatabase(path);
    if (fresh) io.stderr(`note: created a new event log at ${path}\n`);
    const actor: Actor = { kind: 'gitops', id: `dir:${dir}` };
    const out = applyGitops(deps(createSqliteEventStore({ db, snapshotEvery: 0 })), bundle, { actor, expectedSeq: plan.seq });
    io.stdout(appended(out));
    io.stderr(`note: no MCM server is running on ${dataDir}: the change is in the event log; the broker's files are rendered and the broker reloaded when the server starts\n`);
    return EXIT.OK;
  } finally {
    db?.close();
  }
};

export const createApplyCommand = (opts: ApplyCommandOptions = {}): CliCommand => {
  const interactive = opts.interactive ?? (() => Boolean(process.stdin.isTTY && process.stderr.isTTY));
  const confirm = opts.confirm ?? ttyConfirm;
  return {
    name: 'apply',
    summary: 'apply a GitOps dir as one atomic batch (asks first unless --yes)',
    usage,
    run: async (argv, io) => {
      const { values } = parseCommandArgs(argv, { ...DIR_OPTION, yes: { type: 'boolean', short: 'y' }, timeout: { type: 'string' } }, usage);
      if (values.help) {
        io.stdout(usage);
        return EXIT.OK;
      }
      const dir = dirOption(values.dir, io, usage);
      const timeoutS = intOption('timeout', values.timeout, 1, usage) ?? DEFAULT_TIMEOUT_S;
      const { config } = loadCliConfig(io, values.config);
      const bundle = readDirOrReport(io, 'apply', dir, config.mqtt.service_account.username);
      if (bundle === null) return EXIT.FAILURE;
      const ask: Ask = async (cio) => {
        if (values.yes) return true;
        if (!interactive()) {
          cio.stderr('mcm apply: not applied: there is no terminal to confirm on; review the plan above and use --yes\n');
          return false;
        }
        if (await confirm('\nApply these changes? Only "yes" is accepted: ')) return true;
        cio.stderr('mcm apply: cancelled, nothing was changed\n');
        return false;
      };
      const server = readServerInfo(config.data_dir);
      return server === null
        ? direct(io, config, dir, bundle, ask)
        : viaServer(io, config, server, dir, bundle, ask, timeoutS, opts.pollMs ?? 250);
    },
  };
};

export const applyCommand: CliCommand = createApplyCommand();
