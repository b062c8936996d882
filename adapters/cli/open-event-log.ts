/**
 * Opens `<data_dir>/mcm.db` for CLI commands that work on the data dir directly (DESIGN §8: with
 * no server running). A missing database is reported rather than created, so a wrong data dir is
 * noticed instead of answered with an empty log.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import { openDatabase } from '../sqlite/open-database.ts';
import { loadCliConfig, type CliIo } from './command.ts';
import type { Config } from '../config/config.ts';

export type OpenedEventLog = { db: DatabaseSync; path: string };

/** The opened database, or null after telling the user why not (exit 1). */
/** `configOption`: the --config value to load, or the configuration the command already loaded. */
export const openEventLog = (io: CliIo, configOption: string | undefined | Config, command: string): OpenedEventLog | null => {
  // Config warnings are about the broker (mode, reload) and don't concern reading the log.
  const config = typeof configOption === 'object' ? configOption : loadCliConfig(io, configOption).config;
  const path = join(config.data_dir, 'mcm.db');
  if (!existsSync(path)) {
    io.stderr(`mcm ${command}: no event log at ${path} (check data_dir / MCM_DATA_DIR)\n`);
    return null;
  }
  return { db: openDatabase(path), path };
};
