/**
 * The environment variables of DESIGN §8, applied over the file (they win). An empty variable
 * counts as unset, as shells and compose files often export `VAR=` to mean "nothing". A bad
 * value is a problem naming the variable, never silently ignored.
 */
import type { Config } from './config.ts';

export const ENV_VARS = [
  'MCM_CONFIG', 'MCM_DATA_DIR', 'MCM_HTTP_HOST', 'MCM_HTTP_PORT', 'MCM_MOSQUITTO_MODE',
  'MCM_MQTT_HOST', 'MCM_MQTT_PORT', 'MCM_ADMIN_USERNAME', 'MCM_ADMIN_PASSWORD', 'MCM_LOG_LEVEL',
  'MCM_DYNSEC_ADMIN_USERNAME', 'MCM_DYNSEC_ADMIN_PASSWORD',
] as const;

const LOG_LEVELS: readonly Config['log_level'][] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const MODES: readonly Config['mosquitto']['mode'][] = ['supervised', 'external'];

export const envValue = (env: NodeJS.ProcessEnv, name: string): string | undefined => {
  const v = env[name];
  return v === undefined || v === '' ? undefined : v;
};

export type EnvOverrides = {
  problems: string[];
  /** True when MCM_MOSQUITTO_MODE chose the mode (so it is not a machine-dependent default). */
  modeSet: boolean;
};

/** Applies the variables to `config` in place; returns the problems found. */
export const applyEnvOverrides = (config: Config, env: NodeJS.ProcessEnv): EnvOverrides => {
  const problems: string[] = [];
  const port = (name: string, min: number): number | undefined => {
    const raw = envValue(env, name);
    if (raw === undefined) return undefined;
    const n = /^\d{1,5}$/.test(raw) ? Number(raw) : Number.NaN;
    if (Number.isInteger(n) && n >= min && n <= 65535) return n;
    problems.push(`${name}: must be an integer from ${min} to 65535 (got ${JSON.stringify(raw)})`);
    return undefined;
  };
  const oneOf = <T extends string>(name: string, allowed: readonly T[]): T | undefined => {
    const raw = envValue(env, name);
    if (raw === undefined) return undefined;
    if ((allowed as readonly string[]).includes(raw)) return raw as T;
    problems.push(`${name}: must be one of ${allowed.join(', ')} (got ${JSON.stringify(raw)})`);
    return undefined;
  };

  const dataDir = envValue(env, 'MCM_DATA_DIR');
  if (dataDir !== undefined) config.data_dir = dataDir;
  const httpHost = envValue(env, 'MCM_HTTP_HOST');
  if (httpHost !== undefined) config.http.host = httpHost;
  // 0 lets the OS pick a free port (tests); the broker port must be a real one.
  const httpPort = port('MCM_HTTP_PORT', 0);
  if (httpPort !== undefined) config.http.port = httpPort;
  const mode = oneOf('MCM_MOSQUITTO_MODE', MODES);
  if (mode !== undefined) config.mosquitto.mode = mode;
  const mqttHost = envValue(env, 'MCM_MQTT_HOST');
  if (mqttHost !== undefined) config.mqtt.host = mqttHost;
  const mqttPort = port('MCM_MQTT_PORT', 1);
  if (mqttPort !== undefined) config.mqtt.port = mqttPort;
  const logLevel = oneOf('MCM_LOG_LEVEL', LOG_LEVELS);
  if (logLevel !== undefined) config.log_level = logLevel;
  // Used only to create the first admin when none exists. A password alone means user "admin".
  const adminPassword = envValue(env, 'MCM_ADMIN_PASSWORD') ?? null;
  config.bootstrap_admin = {
    username: envValue(env, 'MCM_ADMIN_USERNAME') ?? (adminPassword === null ? null : 'admin'),
    password: adminPassword,
  };
  // External dynsec broker: the plugin's admin, used once to set up MCM's own account.
  config.dynsec_admin = { username: envValue(env, 'MCM_DYNSEC_ADMIN_USERNAME') ?? null, password: envValue(env, 'MCM_DYNSEC_ADMIN_PASSWORD') ?? null };
  if ((config.dynsec_admin.username === null) !== (config.dynsec_admin.password === null)) {
    problems.push('MCM_DYNSEC_ADMIN_USERNAME and MCM_DYNSEC_ADMIN_PASSWORD must be set together');
  }
  return { problems, modeSet: mode !== undefined };
};
