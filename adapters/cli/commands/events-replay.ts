/**
 * `mcm events replay --to SEQ --out DIR`: time travel (DESIGN §4). Folds the log up to SEQ and
 * writes what MCM would have rendered then — password_file, acl_file — and the folded state as
 * state.json, for an operator to inspect or diff. Rendering is deterministic, so the files are
 * byte for byte what the apply loop wrote for that generation.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { fold } from '../../../core/evolve.ts';
import type { BrokerConfig } from '../../../core/state.ts';
import { renderAclFileFromState } from '../../../projections/acl-file.ts';
import { renderPasswordFile } from '../../../projections/password-file.ts';
import { readServiceAccount } from '../../backup/read-service-account.ts';
import { writeFileAtomicSync } from '../../files/atomic-write-sync.ts';
import { createSqliteEventStore } from '../../sqlite/event-store.ts';
import { COMMON_USAGE, EXIT, intOption, loadCliConfig, parseCommandArgs, UsageError, type CliCommand } from '../command.ts';
import { REDACTED } from '../redact-secrets.ts';

const usage = `Usage: mcm events replay --to SEQ --out DIR [--force]

Folds the event log in <data_dir>/mcm.db up to and including SEQ and writes into DIR:
  password_file   the broker password file as of SEQ (MQTT users' $7$ hashes, service account)
  acl_file        the broker ACL file as of SEQ (its header names the generation)
  state.json      the folded state as of SEQ; admin password hashes, TOTP secrets, recovery
                  code hashes and webhook secrets are shown as [redacted] (the MQTT $7$ hashes are kept: the
                  password file holds them anyway)
The files hold password hashes: DIR is created 0700 and the files 0600.

The service account's line comes from <data_dir>/secrets/; before the server first ran there
is none, and password_file is written without it (a note says so).

Exit status: 0 written; 1 no event log, SEQ beyond its end, or a file in DIR exists (use
--force); 64 bad arguments.

Options:
  --to SEQ            the last event to fold in (0 = the empty state)
  --out DIR           where to write the three files (created when missing)
  -f, --force         overwrite the files in DIR
${COMMON_USAGE}`;

export const REPLAY_FILES = ['password_file', 'acl_file', 'state.json'] as const;

/** Fields that hold an admin or webhook secret (a hash or ciphertext), at any depth. */
const SECRET_FIELDS = new Set(['passwordHash', 'secretCiphertext', 'recoveryCodeHashes']);

/** null stays null (it tells "never enrolled" / "code used"); arrays keep their length. */
const redactValue = (v: unknown): unknown =>
  v === null ? null : Array.isArray(v) ? v.map(redactValue) : REDACTED;

const redactDeep = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(redactDeep);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, SECRET_FIELDS.has(k) ? redactValue(v) : redactDeep(v)]));
};

/**
 * The state for operators: admin password hashes, TOTP secrets (active and pending enrolment),
 * recovery code hashes and webhook signing secrets redacted; MQTT hashes kept (the password file
 * holds them anyway).
 */
export const redactStateForOperators = (state: BrokerConfig): BrokerConfig => ({
  ...(redactDeep({ ...state, users: {} }) as BrokerConfig),
  users: state.users,
});

const sortKeys = (v: unknown): unknown => {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (typeof v !== 'object' || v === null) return v;
  return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]));
};

export type ReplayRender = Readonly<{ password_file: string; acl_file: string; 'state.json': string }>;

/**
 * The three files for a folded state. Without a service account hash (none created yet) the
 * password file is rendered without its line rather than with a made-up hash.
 */
export const renderReplay = (state: BrokerConfig, serviceAccount: Readonly<{ username: string; passwordHash: string | null }>): ReplayRender => {
  const { username, passwordHash } = serviceAccount;
  let passwordFile = renderPasswordFile(state, { serviceAccount: { username, passwordHash: passwordHash ?? '-' } });
  if (passwordHash === null) passwordFile = passwordFile.split('\n').filter((l) => !l.startsWith(`${username}:`)).join('\n');
  return {
    password_file: passwordFile,
    acl_file: renderAclFileFromState(state, { serviceAccount: username, generation: state.generation }),
    'state.json': `${JSON.stringify(sortKeys(redactStateForOperators(state)), null, 2)}\n`,
  };
};

export const eventsReplayCommand: CliCommand = {
  name: 'replay',
  summary: 'write the broker files and state as of a seq (time travel)',
  usage,
  run: async (argv, io) => {
    const { values } = parseCommandArgs(argv, {
      to: { type: 'string' },
      out: { type: 'string' },
      force: { type: 'boolean', short: 'f' },
    }, usage);
    if (values.help) {
      io.stdout(usage);
      return EXIT.OK;
    }
    if (values.to === undefined) throw new UsageError('--to SEQ is required', usage);
    const to = intOption('to', values.to, 0, usage) ?? 0;
    if (values.out === undefined || values.out === '') throw new UsageError('--out DIR is required', usage);
    const { config } = loadCliConfig(io, values.config);
    const dbPath = join(config.data_dir, 'mcm.db');
    if (!existsSync(dbPath)) {
      io.stderr(`mcm events replay: no event log at ${dbPath} (check data_dir / MCM_DATA_DIR)\n`);
      return EXIT.FAILURE;
    }
    const out = resolve(io.cwd, values.out);
    const clashes = REPLAY_FILES.filter((f) => existsSync(join(out, f)));
    if (clashes.length > 0 && !values.force) {
      io.stderr(`mcm events replay: ${clashes.map((f) => join(out, f)).join(', ')} already exist${clashes.length === 1 ? 's' : ''}; not overwriting (use --force)\n`);
      return EXIT.FAILURE;
    }

    // Read-only: a running server is the one writer, and replay changes nothing.
    const db = new DatabaseSync(dbPath, { readOnly: true });
    let state: BrokerConfig;
    let count: number;
    try {
      db.exec('PRAGMA busy_timeout = 5000');
      const store = createSqliteEventStore({ db, snapshotEvery: 0 });
      const head = store.headSeq();
      if (to > head) {
        io.stderr(`mcm events replay: seq ${to} is beyond the end of the event log (head seq ${head})\n`);
        return EXIT.FAILURE;
      }
      const events = store.read({ to });
      count = events.length;
      state = fold(events);
    } finally {
      db.close();
    }

    const username = config.mqtt.service_account.username;
    const account = await readServiceAccount(config.data_dir, username);
    const files = renderReplay(state, { username, passwordHash: account?.passwordHash ?? null });
    mkdirSync(out, { recursive: true, mode: 0o700 });
    for (const name of REPLAY_FILES) writeFileAtomicSync(join(out, name), files[name], 0o600);

    const users = files.password_file === '' ? 0 : files.password_file.trimEnd().split('\n').length;
    io.stdout(
      `replayed ${count} event${count === 1 ? '' : 's'} up to seq ${to} (generation ${state.generation}) into ${out}\n` +
      `  password_file  ${users} line${users === 1 ? '' : 's'}\n` +
      `  acl_file       generation ${state.generation}\n` +
      `  state.json     admin password hashes and MFA secrets redacted\n`,
    );
    if (!account) {
      io.stdout(`note: no service account in ${join(config.data_dir, 'secrets')} yet (the server creates it at first start): password_file has no line for "${username}"\n`);
    }
    return EXIT.OK;
  },
};
