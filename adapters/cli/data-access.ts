/**
 * The two ways the CLI's data commands reach the event log (DESIGN §8): through the API of the
 * server that holds the data dir (its lock file says which), or — with no server running — on
 * the data dir directly, building the same commands and calling handleCommand like the routes
 * do. The commands (users, acl) are written once against `Backend` and don't know which is used.
 */
import type { ExplainQuery, ExplainResult } from '../../core/explain.ts';
import type { AclRuleView, MqttUserView } from '../../projections/views.ts';
import { createSqliteEventStore } from '../sqlite/event-store.ts';
import type { CliIo } from './command.ts';
import { createDirectBackend } from './direct-backend.ts';
import { createHttpBackend } from './http-backend.ts';
import { withDataDir } from './with-data-dir.ts';

export { DATA_ACCESS_ERROR_CODES, osUser, serverCertOf } from './with-data-dir.ts';


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


/**
 * Runs `fn` with the backend for the configured data dir: the server's API when a live server
 * holds the data dir, else the data dir itself (a missing event log is refused, not created, so
 * a wrong data dir is noticed). After a direct write, says when it will reach the broker.
 */
export const withBackend = <T>(
  io: CliIo,
  configOption: string | undefined,
  fn: (backend: Backend) => Promise<T>,
  opts: Readonly<{ createLog?: boolean }> = {},
): Promise<T> => withDataDir(io, configOption, {
  server: (api) => fn(createHttpBackend(api)),
  direct: async (db, { config, dataDir, user }) => {
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
  },
}, opts);
