/**
 * Built-in defaults: complete, so MCM runs with no config file at all (DESIGN §8). The one value
 * that depends on the machine is the Mosquitto mode: supervised when a `mosquitto` binary can be
 * found, otherwise external with reload strategy `none` (MCM then writes the files but cannot
 * reload the broker; loadConfig warns about it).
 */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import type { Config } from './config.ts';

/**
 * Debian and Ubuntu install the broker as /usr/sbin/mosquitto, which is not on a normal user's
 * PATH (reference §4), so these are searched after PATH.
 */
export const SBIN_DIRS: readonly string[] = ['/usr/sbin', '/usr/local/sbin'];

const isExecutableFile = (path: string): boolean => {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/**
 * Where `name` would be found: a name with a '/' is checked as given (relative to `cwd`), a bare
 * name is looked up on `pathVar` and then in `extraDirs`. Null when no executable file is there.
 */
export const findExecutable = (
  name: string,
  pathVar: string | undefined = process.env['PATH'],
  extraDirs: readonly string[] = SBIN_DIRS,
  cwd: string = process.cwd(),
): string | null => {
  if (name.includes('/')) {
    const path = resolve(cwd, name);
    return isExecutableFile(path) ? path : null;
  }
  const dirs = [...(pathVar ?? '').split(delimiter), ...extraDirs].filter((d) => d !== '' && isAbsolute(d));
  for (const dir of dirs) {
    const candidate = join(dir, name);
    if (isExecutableFile(candidate)) return candidate;
  }
  return null;
};

/** The first executable `mosquitto` on `pathVar`, then in SBIN_DIRS, or null. */
export const findMosquitto = (pathVar: string | undefined = process.env['PATH']): string | null =>
  findExecutable('mosquitto', pathVar);

export const MOSQUITTO_NOT_FOUND_WARNING =
  `no mosquitto binary found on PATH or in ${SBIN_DIRS.join(', ')}: mosquitto.mode defaults to 'external' ` +
  `with reload strategy 'none' (MCM writes password_file and acl_file but cannot reload a broker). ` +
  `Install mosquitto (npm run setup) or set mosquitto.mode and mosquitto.reload in the config file.`;

export type DefaultConfigOptions = {
  /** The broker binary; undefined = search with findMosquitto(), null = none found (tests). */
  mosquittoBinary?: string | null;
};

export const defaultConfig = (options: DefaultConfigOptions = {}): Config => {
  const binary = options.mosquittoBinary === undefined ? findMosquitto() : options.mosquittoBinary;
  const supervised = binary !== null;
  return {
    data_dir: './data',
    log_level: 'info',
    http: {
      host: '127.0.0.1',
      port: 8080,
      trust_proxies: [],
      body_limit_bytes: 1024 * 1024,
      ui_dir: null,
      tls: { cert: null, key: null, min_version: 'TLSv1.2', client_ca: null, client_auth: 'none' },
    },
    mqtt: {
      host: '127.0.0.1',
      port: 1883,
      websockets_port: null,
      service_account: { username: 'mcm-service' },
      tls: { enabled: false, ca: null, cert: null, key: null, reject_unauthorized: true },
    },
    mosquitto: {
      mode: supervised ? 'supervised' : 'external',
      binary: binary ?? 'mosquitto',
      backend: 'files',
      dynsec: { plugin: null },
      plugin_dir: null,
      password_file: null,
      acl_file: null,
      reload: {
        strategy: supervised ? 'supervised' : 'none',
        pid_file: null,
        command: [],
        docker: { socket: '/var/run/docker.sock', container: null },
      },
      conf_fragment: null,
      conf_file: null,
      persistence_dir: '/var/lib/mosquitto',
      restart_command: [],
      drift: 'restore',
      probe: { timeout_ms: 5000, interval_s: 60 },
      debounce_ms: 25,
    },
    auth: {
      jwt_ttl_s: 3600,
      bcrypt_cost: 12,
      lockout: { max_failures: 6, max_failures_per_address: 30, window_s: 900, max_delay_s: 15 },
      mfa_issuer: 'MCM',
      oidc: null,
    },
    metrics: { token: null },
    gitops: { watch_dir: null },
    webhooks: { allow_private: false, max_attempts: 8, retention_days: 7, max_pending: 10_000 },
    security_events: { retention_days: 90, max_rows: 100_000, aggregate_window_s: 60 },
    observer: { max_topics: 10000, history_depth: 20, log_file: null },
    bootstrap_admin: { username: null, password: null },
    dynsec_admin: { username: null, password: null },
  };
};
