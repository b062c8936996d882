/**
 * How a data command reaches the configured data dir (DESIGN §8): the API of the server that
 * holds it, or — with no server running — the event log itself. A missing log is refused unless
 * the command may start one (`createLog`), so a wrong data dir is noticed.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import { DomainError } from '../../core/errors.ts';
import type { Config } from '../config/config.ts';
import { openDatabase } from '../sqlite/open-database.ts';
import { connectToServer, type ApiClient } from './api-client.ts';
import { loadCliConfig, type CliIo } from './command.ts';
import { DATA_ACCESS_ERROR_CODES, osUser, serverCertOf } from './data-access.ts';
import { readServerInfo } from './server-lock.ts';

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
