/**
 * `mcm import`: makes MCM decide every case as an existing Mosquitto's password_file and acl_file
 * do, losing nothing (issue "Adopt an existing Mosquitto"), as ONE ImportBrokerFiles command with
 * actor `{kind: 'import', id: 'files:<paths>'}`. Through the running server's API when there is
 * one (then it waits until the broker runs the result, like `mcm apply`), else on the data dir.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isDomainError, type DomainError } from '../../../core/errors.ts';
import type { EventStore } from '../../../core/ports.ts';
import type { Config } from '../../config/config.ts';
import { findExecutable } from '../../config/defaults.ts';
import { renderedFilePaths } from '../../doctor/check-broker-files.ts';
import { formatApplied, formatImportPlan } from '../../import/format-import-plan.ts';
import { filesActorId, IMPORT_INVALID } from '../../import/import-file.ts';
import { brokerLineOf, detectBinaryVersion } from '../../mosquitto/broker-version.ts';
import { buildImportInput, readImportFiles, type ImportFiles, type ImportPaths } from '../../import/read-import-files.ts';
import { applyImport, planImportOutcome, willAppend, type ImportApplyOutcome, type ImportPlanOutcome } from '../../import/run-import.ts';
import { brokerContextOf, externalModeWarnings, prepareBrokerConf } from '../../import/broker-conf-import.ts';
import { createApplyResults, GOOD_FILES_KEY_NAME } from '../../sqlite/apply-results.ts';
import { createSecretStore } from '../../secrets/secret-store.ts';
import { createSqliteEventStore } from '../../sqlite/event-store.ts';
import { openDatabase } from '../../sqlite/open-database.ts';
import { connectToServer } from '../api-client.ts';
import { COMMON_USAGE, EXIT, intOption, loadCliConfig, parseCommandArgs, UsageError, type CliCommand, type CliIo } from '../command.ts';
import { osUser } from '../data-access.ts';
import { assertNoServer, readServerInfo, type ServerInfo } from '../server-lock.ts';
import { emptyStore, serverCertOf, ttyConfirm, waitForBroker } from '../server-apply.ts';

const DEFAULT_TIMEOUT_S = 60;

const usage = `Usage: mcm import [--password-file F] [--acl-file F] [--conf F] [--plan] [--yes] [--json] [--timeout SECONDS]

Takes over an existing Mosquitto's password_file and acl_file without losing a user: afterwards
the files MCM renders decide every login and every publish/subscribe as these files do. Password
hashes are kept byte for byte ($6$, $7$, argon2id). A line MCM cannot represent refuses the
whole import with its line number, and nothing changes.

Without file options it reads the files MCM is configured with (mosquitto.password_file and
mosquitto.acl_file; supervised: <data_dir>/mosquitto/passwd and acl). --conf reads the paths from
a mosquitto.conf (password_file/acl_file, or 2.1's plugin_opt_password_file/plugin_opt_acl_file;
include_dir followed) and takes its allow_anonymous and its broker configuration: listeners
(certfile/keyfile/cafile become certificates, PEMs and keys kept in <data_dir>/secrets/),
options, bridges (remote_password kept in secrets/, never in the event log) and, verbatim at
the end of mosquitto.conf, the global lines MCM does not manage. A listener or bridge line MCM
does not manage refuses the import with its line number.

Prints the plan (counts, the first differences, every warning), asks for confirmation (or
--yes), then appends everything as one batch (actor import). With a running MCM server on the
data dir it goes through its API and mcm waits until the broker runs the result; without one
it is written to <data_dir>/mcm.db (created when missing) and applied when the server starts.

Exit status: --plan: 0 nothing to import, 2 changes, 1 error (invalid files, with line numbers).
Otherwise 0 imported or nothing to do; 1 invalid files, refused, cancelled, or the broker
apply failed or did not finish in time. 64 bad arguments.

Options:
  --password-file F   the password file to import
  --acl-file F        the ACL file to import
  --conf F            a mosquitto.conf naming them
  --plan              print the plan only (exit 0 / 2 / 1)
  -y, --yes           import without asking
  --json              print the plan (or the outcome) as JSON on stdout
  --timeout SECONDS   how long to wait for the broker apply (default ${DEFAULT_TIMEOUT_S})
${COMMON_USAGE}`;

export type ImportCommandOptions = Readonly<{
  /** True when a person can answer (stdin and stderr are terminals). */
  interactive?: () => boolean;
  /** Asks `question`; true only for the answer "yes". */
  confirm?: (question: string) => Promise<boolean>;
  pollMs?: number;
}>;

type Flags = Readonly<{ plan: boolean; yes: boolean; json: boolean; timeoutS: number; pollMs: number }>;
type Ask = (io: CliIo) => Promise<boolean>;

const pathOption = (name: string, value: string | undefined, io: CliIo): string | null => {
  if (value === undefined) return null;
  if (value === '') throw new UsageError(`--${name} needs a file`, usage);
  return resolve(io.cwd, value);
};

/** The local broker binary's version in supervised mode; null otherwise (unknown: warned for both lines). */
const localBrokerVersion = (config: Config, env: NodeJS.ProcessEnv): string | null => {
  if (config.mosquitto.mode !== 'supervised') return null;
  const bin = findExecutable(config.mosquitto.binary, env['PATH']);
  if (bin === null) return null;
  return detectBinaryVersion(bin);
};

const reportInvalid = (io: CliIo, e: DomainError, flags: Flags): number => {
  if (flags.json) {
    io.stdout(`${JSON.stringify({ error: { code: e.code, message: e.message, details: e.details } }, null, 2)}\n`);
    return EXIT.FAILURE;
  }
  io.stderr(`mcm import: ${e.message}\n`);
  for (const d of e.details) {
    const line = typeof d['line'] === 'number' && d['line'] > 0 ? `:${d['line']}` : '';
    io.stderr(`  ${String(d['file'] ?? '')}${line}  ${String(d['message'] ?? '')}\n`);
  }
  return EXIT.FAILURE;
};

const showPlan = (io: CliIo, plan: ImportPlanOutcome, flags: Flags): void => {
  if (!flags.json) io.stdout(formatImportPlan(plan));
};

const printJson = (io: CliIo, value: unknown): void => io.stdout(`${JSON.stringify(value, null, 2)}\n`);

/** The end of a plan-only run, or of a run with nothing to append; null when the import goes on. */
const planOnlyExit = (io: CliIo, plan: ImportPlanOutcome, flags: Flags): number | null => {
  if (flags.plan) {
    if (flags.json) printJson(io, plan);
    return willAppend(plan) ? EXIT.CHANGES : EXIT.OK;
  }
  if (!willAppend(plan)) {
    if (flags.json) printJson(io, { ...plan, events_count: 0 } satisfies ImportApplyOutcome);
    return EXIT.OK;
  }
  return null;
};

const refused = (io: CliIo, plan: ImportPlanOutcome, flags: Flags): number => {
  if (flags.json) printJson(io, plan);
  return EXIT.FAILURE;
};

const viaServer = async (io: CliIo, config: Config, server: ServerInfo, files: ImportFiles | null, ask: Ask, flags: Flags): Promise<number> => {
  const client = connectToServer(config.data_dir, server, { user: osUser(), serverCert: serverCertOf(config) });
  // Files read here are sent as text; none named → the server reads the files it is configured with.
  const body = files === null ? {} : {
    ...(files.passwordFile ? { password_file: files.passwordFile.text } : {}),
    ...(files.aclFile ? { acl_file: files.aclFile.text } : {}),
    // The server reads no path a posted conf names: included confs and TLS files go along.
    ...(files.conf ? { mosquitto_conf: files.conf.text, conf_files: files.conf.sent } : {}),
    source: filesActorId(files.paths),
  };
  const plan = (await client.request('POST', '/import', { mode: 'plan', ...body })).body as ImportPlanOutcome;
  showPlan(io, plan, flags);
  const early = planOnlyExit(io, plan, flags);
  if (early !== null) return early;
  if (!(await ask(io))) return refused(io, plan, flags);
  const out = (await client.request('POST', '/import', { mode: 'apply', ...body, expected_seq: plan.seq })).body as ImportApplyOutcome;
  const say = flags.json ? (s: string) => io.stderr(s) : (s: string) => io.stdout(s);
  say(formatApplied(out));
  const code = await waitForBroker(io, client, { command: 'import', timeoutS: flags.timeoutS, pollMs: flags.pollMs, report: say });
  if (flags.json) printJson(io, out);
  return code;
};

const direct = async (io: CliIo, config: Config, paths: ImportPaths, ask: Ask, flags: Flags): Promise<number> => {
  const dataDir = config.data_dir;
  const path = join(dataDir, 'mcm.db');
  const files = readImportFiles(paths);
  const clock = { now: () => new Date().toISOString() };
  // A new data dir's event log is created only once there is something to write into it.
  const fresh = !existsSync(path);
  let db = fresh ? null : openDatabase(path);
  try {
    // MCM's own files are recognised only through records whose HMAC matches (key in secrets/).
    let key: Buffer | null = null;
    try { key = createSecretStore(dataDir).read(GOOD_FILES_KEY_NAME); } catch { /* unreadable: nothing is taken for MCM's own */ }
    const lastGood = db ? createApplyResults({ db, key }).lastGoodFiles() : new Map<string, { sha256: string }>();
    const brokerVersion = localBrokerVersion(config, io.env);
    const brokerLine = brokerLineOf(brokerVersion);
    const input = buildImportInput(files, { serviceAccount: config.mqtt.service_account.username, brokerLine, lastGood });
    // No snapshots from the CLI: they are the server's start-up cache (DESIGN §4).
    const store = (): EventStore => (db ? createSqliteEventStore({ db, snapshotEvery: 0 }) : emptyStore());
    const warnings = files.conf ? [...files.conf.warnings, ...externalModeWarnings(config)] : [];
    const brokerConf = files.conf ? prepareBrokerConf(files.conf.broker, new Date(clock.now())) : null;
    const secrets = createSecretStore(dataDir);
    const deps = () => ({ store: store(), clock, secrets, broker: brokerContextOf(config, brokerLine), backend: config.mosquitto.backend });
    const plan = planImportOutcome(deps(), input, { brokerVersion, warnings, brokerConf });
    showPlan(io, plan, flags);
    const early = planOnlyExit(io, plan, flags);
    if (early !== null) return early;
    if (!(await ask(io))) return refused(io, plan, flags);
    // No server a moment ago; one started while we asked would make us a second writer.
    assertNoServer(dataDir);
    db ??= openDatabase(path);
    if (fresh) io.stderr(`note: created a new event log at ${path}\n`);
    const actor = { kind: 'import', id: filesActorId(files.paths) } as const;
    const out = applyImport(deps(), input, { actor, expectedSeq: plan.seq, brokerVersion, warnings, brokerConf });
    if (flags.json) printJson(io, out);
    else io.stdout(formatApplied(out));
    io.stderr(`note: no MCM server is running on ${dataDir}: the import is in the event log; the broker's files are rendered and the broker reloaded when the server starts\n`);
    return EXIT.OK;
  } finally {
    db?.close();
  }
};

export const createImportCommand = (opts: ImportCommandOptions = {}): CliCommand => {
  const interactive = opts.interactive ?? (() => Boolean(process.stdin.isTTY && process.stderr.isTTY));
  const confirm = opts.confirm ?? ttyConfirm;
  return {
    name: 'import',
    summary: "import an existing Mosquitto's password_file and acl_file, losing nothing (asks first unless --yes)",
    usage,
    run: async (argv, io) => {
      const { values } = parseCommandArgs(argv, {
        'password-file': { type: 'string' },
        'acl-file': { type: 'string' },
        conf: { type: 'string' },
        plan: { type: 'boolean' },
        yes: { type: 'boolean', short: 'y' },
        json: { type: 'boolean' },
        timeout: { type: 'string' },
      }, usage);
      if (values.help) {
        io.stdout(usage);
        return EXIT.OK;
      }
      if (values.plan && values.yes) throw new UsageError('--plan only prints the plan: leave out --yes', usage);
      const flags: Flags = {
        plan: values.plan === true,
        yes: values.yes === true,
        json: values.json === true,
        timeoutS: intOption('timeout', values.timeout, 1, usage) ?? DEFAULT_TIMEOUT_S,
        pollMs: opts.pollMs ?? 250,
      };
      const explicit = {
        passwordFile: pathOption('password-file', values['password-file'], io),
        aclFile: pathOption('acl-file', values['acl-file'], io),
        conf: pathOption('conf', values.conf, io),
      };
      const { config } = loadCliConfig(io, values.config);
      const paths: ImportPaths = { ...explicit, configured: renderedFilePaths(config) };
      const ask: Ask = async (cio) => {
        if (flags.yes) return true;
        if (!interactive()) {
          cio.stderr('mcm import: not imported: there is no terminal to confirm on; review the plan above and use --yes\n');
          return false;
        }
        if (await confirm('\nImport these files? Only "yes" is accepted: ')) return true;
        cio.stderr('mcm import: cancelled, nothing was changed\n');
        return false;
      };
      try {
        const server = readServerInfo(config.data_dir);
        if (server === null) return await direct(io, config, paths, ask, flags);
        const named = explicit.passwordFile !== null || explicit.aclFile !== null || explicit.conf !== null;
        return await viaServer(io, config, server, named ? readImportFiles(paths) : null, ask, flags);
      } catch (e) {
        if (isDomainError(e) && e.code === IMPORT_INVALID) return reportInvalid(io, e, flags);
        throw e;
      }
    },
  };
};

export const importCommand: CliCommand = createImportCommand();
