/**
 * The two ways the CLI's data commands reach the event log (DESIGN §8): through the API of the
 * server that holds the data dir (its lock file says which), or — with no server running — on
 * the data dir directly, building the same commands and calling handleCommand like the routes
 * do. The commands (users, acl) are written once against `Backend` and don't know which is used.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { DomainError } from '../../core/errors.ts';
import type { ExplainQuery, ExplainResult } from '../../core/explain.ts';
import type { AclRuleView, MqttUserView } from '../../projections/views.ts';
import type { Config } from '../config/config.ts';
import { createSqliteEventStore } from '../sqlite/event-store.ts';
import { openDatabase } from '../sqlite/open-database.ts';
import { connectToServer } from './api-client.ts';
import { loadCliConfig, type CliIo } from './command.ts';
import { createDirectBackend } from './direct-backend.ts';
import { createHttpBackend } from './http-backend.ts';
import { readServerInfo } from './server-lock.ts';

export const DATA_ACCESS_ERROR_CODES = { NO_EVENT_LOG: 'MCM_ERR_NO_EVENT_LOG', NO_SERVER: 'MCM_ERR_NO_SERVER' } as const;

export type NewMqttUser = Readonly<{ username: string; password?: string; description?: string; roles?: readonly string[] }>;
export type NewAclRule = Readonly<{ principal: string; topic: string; access: string; description?: string }>;

/** `password` is present only when MCM generated it: shown once, never stored in plain. */
export type PasswordResult = { password?: string };

export type Backend = Readonly<{
  /** `server`: through the running server's API; `direct`: on the data dir. */
  kind: 'server' | 'direct';
  /** The server's url or the data dir, for messages. */
  target: string;
  listUsers(): Promise<MqttUserView[]>;
  createUser(input: NewMqttUser): Promise<{ user: MqttUserView } & PasswordResult>;
  changePassword(username: string, password?: string): Promise<PasswordResult>;
  setDisabled(username: string, disabled: boolean): Promise<MqttUserView>;
  deleteUser(username: string): Promise<void>;
  listAcls(filter: { principal?: string }): Promise<AclRuleView[]>;
  addAcl(input: NewAclRule): Promise<AclRuleView>;
  removeAcl(id: number): Promise<void>;
  explain(query: ExplainQuery): Promise<ExplainResult>;
  /** True once the direct backend appended something (nothing renders or reloads without a server). */
  wrote(): boolean;
}>;

/** The OS user running the CLI: the actor id of what it changes (`{kind: 'cli', id}`). */
export const osUser = (): string => {
  try {
    return userInfo().username;
  } catch {
    // A uid without a passwd entry (containers started with --user 1234).
    return `uid-${process.getuid?.() ?? 'unknown'}`;
  }
};

/** The server's own certificate (http.tls.cert), trusted as is for its https url; null for http. */
export const serverCertOf = (config: Config): Buffer | null => {
  if (config.http.tls.cert === null) return null;
  try {
    return readFileSync(config.http.tls.cert);
  } catch {
    return null; // the handshake then fails with the TLS error, which names the problem
  }
};

/**
 * Runs `fn` with the backend for the configured data dir: the server's API when a live server
 * holds the data dir, else the data dir itself (a missing event log is refused, not created, so
 * a wrong data dir is noticed). After a direct write, says when it will reach the broker.
 */
export const withBackend = async <T>(
  io: CliIo,
  configOption: string | undefined,
  fn: (backend: Backend) => Promise<T>,
  opts: Readonly<{ createLog?: boolean }> = {},
): Promise<T> => {
  const { config } = loadCliConfig(io, configOption);
  const dataDir = config.data_dir;
  const user = osUser();
  const server = readServerInfo(dataDir);
  if (server !== null) {
    return fn(createHttpBackend(connectToServer(dataDir, server, { user, serverCert: serverCertOf(config) })));
  }
  const path = join(dataDir, 'mcm.db');
  if (!existsSync(path)) {
    // Commands that add something may start a data dir the server never created (a GitOps or
    // scripted install before the first start); reads and changes to what must exist refuse, so
    // a wrong data dir is noticed.
    if (!opts.createLog) {
      throw new DomainError(DATA_ACCESS_ERROR_CODES.NO_EVENT_LOG,
        `no event log at ${path} (check data_dir / MCM_DATA_DIR; \`mcm server\` creates it on its first start)`, [{ path }]);
    }
    mkdirSync(dataDir, { recursive: true, mode: 0o750 });
    io.stderr(`note: created a new event log at ${path}\n`);
  }
  const db = openDatabase(path);
  try {
    // No snapshots from the CLI: they are the server's start-up cache (DESIGN §4).
    const store = createSqliteEventStore({ db, snapshotEvery: 0 });
    const backend = createDirectBackend({
      store,
      dataDir,
      serviceAccount: config.mqtt.service_account.username,
      backend: config.mosquitto.backend,
      actor: { kind: 'cli', id: user },
    });
    const result = await fn(backend);
    if (backend.wrote()) {
      io.stderr(`note: no MCM server is running on ${dataDir}: the change is in the event log; the broker's files are rendered and the broker reloaded when the server starts\n`);
    }
    return result;
  } finally {
    db.close();
  }
};
