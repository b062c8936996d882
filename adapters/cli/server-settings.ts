/**
 * The running server's effective settings, for CLI tools started from another shell (issue
 * "second hardening round": `mcm doctor` probed 127.0.0.1:1883 while the server, started with
 * MCM_MQTT_PORT=21883, used 21883). The server writes `<data_dir>/server-settings.json` (0600)
 * beside its lock at start and removes it at shutdown; secrets are left out.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/config.ts';
import { writeFileAtomicSync } from '../files/atomic-write-sync.ts';
import { readServerInfo } from './server-lock.ts';

export const SERVER_SETTINGS_FILE = 'server-settings.json';

/**
 * The config without what must not sit in a file (the first admin's password, the dynsec plugin
 * admin's password, the metrics token).
 */
export const withoutSecrets = (config: Config): Config => ({
  ...config,
  bootstrap_admin: { ...config.bootstrap_admin, password: null },
  dynsec_admin: { ...config.dynsec_admin, password: null },
  metrics: { ...config.metrics, token: null },
});

/** Written by the server at start; returns the remover for its shutdown. */
export const writeServerSettings = (dataDir: string, config: Config): (() => void) => {
  const path = join(dataDir, SERVER_SETTINGS_FILE);
  writeFileAtomicSync(path, `${JSON.stringify({ pid: process.pid, config: withoutSecrets(config) }, null, 2)}\n`, 0o600);
  return () => { try { rmSync(path, { force: true }); } catch { /* gone already */ } };
};

/**
 * The settings of the server running on `dataDir` now, or null (no server, or a file left by one
 * that is gone). Secrets stay those of the caller's own config.
 */
export const runningServerSettings = (dataDir: string, own: Config): { pid: number; config: Config } | null => {
  const server = readServerInfo(dataDir);
  if (server === null) return null;
  try {
    const saved = JSON.parse(readFileSync(join(dataDir, SERVER_SETTINGS_FILE), 'utf8')) as { pid?: unknown; config?: Config };
    if (saved.pid !== server.pid || saved.config === undefined) return null;
    return {
      pid: server.pid,
      config: {
        ...saved.config, data_dir: own.data_dir, bootstrap_admin: own.bootstrap_admin, dynsec_admin: own.dynsec_admin,
        metrics: { ...saved.config.metrics, token: own.metrics.token },
      },
    };
  } catch {
    return null;
  }
};
