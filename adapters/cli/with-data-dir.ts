/**
 * How a data command reaches the configured data dir (DESIGN §8): the API of the server that
 * holds it, or — with no server running — the event log itself. A missing log is refused unless
 * the command may start one (`createLog`), so a wrong data dir is noticed.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import { DomainError } from '../../core/errors.ts';
import type { Config } from '../config/config.ts';
import { openDatabase } from '../sqlite/open-database.ts';
import { connectToServer, type ApiClient } from './api-client.ts';
import { loadCliConfig, type CliIo } from './command.ts';
import { readServerInfo } from './server-lock.ts';

export const DATA_ACCESS_ERROR_CODES = { NO_EVENT_LOG: 'MCM_ERR_NO_EVENT_LOG', NO_SERVER: 'MCM_ERR_NO_SERVER' } as const;

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

export type DataDirAccess<T> = Readonly<{
  server: (api: ApiClient) => Promise<T>;
  /** The database is closed when this settles. */
  direct: (db: DatabaseSync, where: Readonly<{ config: Config; dataDir: string; user: string }>) => Promise<T>;
}>;

export const withDataDir = async <T>(
  io: CliIo, configOption: string | undefined, access: DataDirAccess<T>, opts: Readonly<{ createLog?: boolean }> = {},
): Promise<T> => {
  const { config } = loadCliConfig(io, configOption);
  const dataDir = config.data_dir;
  const user = osUser();
  const server = readServerInfo(dataDir);
  if (server !== null) return access.server(connectToServer(dataDir, server, { user, serverCert: serverCertOf(config) }));
  const path = join(dataDir, 'mcm.db');
  if (!existsSync(path)) {
    if (!opts.createLog) {
      throw new DomainError(DATA_ACCESS_ERROR_CODES.NO_EVENT_LOG,
        `no event log at ${path} (check data_dir / MCM_DATA_DIR; \`mcm server\` creates it on its first start)`, [{ path }]);
    }
    mkdirSync(dataDir, { recursive: true, mode: 0o750 });
    io.stderr(`note: created a new event log at ${path}\n`);
  }
  const db = openDatabase(path);
  try {
    return await access.direct(db, { config, dataDir, user });
  } finally {
    db.close();
  }
};
