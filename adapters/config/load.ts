/**
 * Resolves the configuration: built-in defaults ← mcm.yaml ← environment (DESIGN §8). The file is
 * validated with Ajv (allErrors), so one run lists every problem with its path; the environment
 * is checked too, and everything wrong is reported in one ConfigError.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { ajvModule } from '../modules/ajv.ts';
import { yamlModule } from '../modules/yaml.ts';
import type { Config } from './config.ts';
import { defaultConfig, findExecutable, MOSQUITTO_NOT_FOUND_WARNING } from './defaults.ts';
import { applyEnvOverrides, envValue } from './env-overrides.ts';
import { literalSecretProblems, oidcProblems, withOidcDefaults } from './oidc-config.ts';
import { configFileSchema } from './schema.ts';

/** A configuration that cannot be used. `problems` lists every one, each with its path or variable. */
export class ConfigError extends Error {
  readonly problems: readonly string[];
  readonly source: string | null;
  constructor(problems: readonly string[], source: string | null) {
    super(`invalid configuration${source === null ? '' : ` (${source})`}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
    this.source = source;
  }
}

export type LoadConfigOptions = {
  /** An explicit file (`--config`); wins over MCM_CONFIG. Relative to `cwd`. null/undefined: MCM_CONFIG, else none. */
  file?: string | null;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /**
   * Overrides the search for the mosquitto binary (undefined = search env.PATH and the sbin dirs;
   * null = pretend none exists). Ignored when the file sets mosquitto.binary: that one is checked.
   */
  mosquittoBinary?: string | null;
};

export type LoadedConfig = { config: Config; warnings: string[]; source: string | null };

// Compiled once, when the first config file is checked: a start on built-in defaults and the
// environment has no file to check and skips Ajv altogether (issue 14).
let compiled: ValidateFunction | null = null;
export const configFileValidator = (): ValidateFunction =>
  (compiled ??= new (ajvModule().Ajv)({ allErrors: true, strict: true, allowUnionTypes: true }).compile(configFileSchema));

const formatAjvError = (e: ErrorObject): string => {
  const path = e.instancePath === '' ? '/' : e.instancePath;
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties':
      return `${e.instancePath}/${String(params['additionalProperty'])}: unknown key`;
    case 'enum':
      return `${path}: must be one of ${(params['allowedValues'] as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'type':
      return `${path}: must be ${([] as unknown[]).concat(params['type']).join(' or ')}`;
    default:
      return `${path}: ${e.message ?? e.keyword}`;
  }
};

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Objects merge key by key; arrays, scalars and null replace. */
const mergeOver = <T>(base: T, over: unknown): T => {
  if (!isPlainObject(base) || !isPlainObject(over)) return (over === undefined ? base : over) as T;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = mergeOver(base[k], v);
  return out as T;
};

const readConfigFile = (path: string, named: string): unknown => {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'file not found' : `cannot read file (${code ?? String(e)})`;
    throw new ConfigError([`${named}: ${why}: ${path}`], path);
  }
  const doc = yamlModule().parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(doc.errors.map((err) => `YAML: ${err.message.split('\n')[0] ?? err.message}`), path);
  }
  // An empty file (or one holding only comments) means "all defaults".
  return doc.toJS() ?? {};
};

const at = (v: unknown, ...keys: string[]): unknown =>
  keys.reduce<unknown>((o, k) => (isPlainObject(o) ? o[k] : undefined), v);

/** Paths in the config are resolved against the working directory. */
const resolvePaths = (c: Config, cwd: string): void => {
  const abs = (p: string): string => resolve(cwd, p);
  const absOrNull = (p: string | null): string | null => (p === null ? null : abs(p));
  c.data_dir = abs(c.data_dir);
  c.http.tls = { ...c.http.tls, cert: absOrNull(c.http.tls.cert), key: absOrNull(c.http.tls.key), client_ca: absOrNull(c.http.tls.client_ca) };
  c.mqtt.tls = { ...c.mqtt.tls, ca: absOrNull(c.mqtt.tls.ca), cert: absOrNull(c.mqtt.tls.cert), key: absOrNull(c.mqtt.tls.key) };
  // A bare binary name is looked up on PATH when spawned; a path is made absolute.
  if (c.mosquitto.binary.includes('/') && !isAbsolute(c.mosquitto.binary)) c.mosquitto.binary = abs(c.mosquitto.binary);
  c.mosquitto.password_file = absOrNull(c.mosquitto.password_file);
  c.mosquitto.plugin_dir = absOrNull(c.mosquitto.plugin_dir);
  c.mosquitto.dynsec.plugin = absOrNull(c.mosquitto.dynsec.plugin);
  c.mosquitto.acl_file = absOrNull(c.mosquitto.acl_file);
  c.mosquitto.reload.pid_file = absOrNull(c.mosquitto.reload.pid_file);
  c.mosquitto.reload.docker.socket = abs(c.mosquitto.reload.docker.socket);
  c.gitops.watch_dir = absOrNull(c.gitops.watch_dir);
};

/** Rules between keys that the schema cannot express. */
const crossFieldProblems = (c: Config): string[] => {
  const problems: string[] = [];
  const { mode, reload } = c.mosquitto;
  if (mode === 'supervised' && reload.strategy !== 'supervised') {
    problems.push(`/mosquitto/reload/strategy: must be "supervised" when mosquitto.mode is "supervised" (MCM runs and reloads the broker itself), got "${reload.strategy}"`);
  }
  if (mode === 'external' && reload.strategy === 'supervised') {
    problems.push('/mosquitto/reload/strategy: "supervised" needs mosquitto.mode "supervised"; for an external broker use signal, command, docker or none');
  }
  if (c.mosquitto.backend === 'dynsec' && mode === 'external' && (c.mosquitto.conf_fragment !== null || c.mosquitto.conf_file !== null)) {
    problems.push('/mosquitto/backend: with "dynsec" and an external broker MCM does not write its mosquitto.conf in this version: leave conf_fragment and conf_file unset');
  }
  if (reload.strategy === 'signal' && reload.pid_file === null) problems.push('/mosquitto/reload/pid_file: required when reload.strategy is "signal"');
  if (reload.strategy === 'command' && reload.command.length === 0) problems.push('/mosquitto/reload/command: required (an argv list) when reload.strategy is "command"');
  if (reload.strategy === 'docker' && reload.docker.container === null) problems.push('/mosquitto/reload/docker/container: required when reload.strategy is "docker"');
  const { tls } = c.http;
  if ((tls.cert === null) !== (tls.key === null)) problems.push('/http/tls: cert and key must be set together');
  if (tls.client_auth !== 'none' && tls.client_ca === null) problems.push(`/http/tls/client_ca: required when client_auth is "${tls.client_auth}"`);
  if (tls.client_auth !== 'none' && tls.cert === null) problems.push('/http/tls/client_auth: client certificates need HTTPS (http.tls.cert and key)');
  if ((c.mqtt.tls.cert === null) !== (c.mqtt.tls.key === null)) problems.push('/mqtt/tls: cert and key must be set together');
  return problems;
};

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export const loadConfig = (options: LoadConfigOptions = {}): LoadedConfig => {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const fromEnv = envValue(env, 'MCM_CONFIG');
  const explicit = options.file ?? undefined;
  const source = explicit !== undefined ? resolve(cwd, explicit) : fromEnv !== undefined ? resolve(cwd, fromEnv) : null;

  const fileValue = source === null ? {} : readConfigFile(source, explicit !== undefined ? 'config file' : 'MCM_CONFIG');
  const problems: string[] = [];
  // No file: nothing to check (the schema accepts the empty object, tests/adapters/config-load.test.ts).
  const validateFile = source === null ? null : configFileValidator();
  if (validateFile && !validateFile(fileValue)) problems.push(...new Set((validateFile.errors ?? []).map(formatAjvError)));
  problems.push(...literalSecretProblems(at(fileValue, 'auth', 'oidc')));

  // The mode's default depends on whether the broker binary exists: look for the one configured.
  const fileBinary = at(fileValue, 'mosquitto', 'binary');
  const binary = typeof fileBinary === 'string'
    ? findExecutable(fileBinary, env['PATH'], undefined, cwd)
    : options.mosquittoBinary !== undefined ? options.mosquittoBinary : findExecutable('mosquitto', env['PATH']);
  const config = problems.length === 0
    ? mergeOver(defaultConfig({ mosquittoBinary: binary }), fileValue)
    : defaultConfig({ mosquittoBinary: binary });
  if (problems.length === 0) config.auth.oidc = withOidcDefaults(at(fileValue, 'auth', 'oidc'));
  const overrides = applyEnvOverrides(config, env);
  problems.push(...overrides.problems, ...oidcProblems(config.auth.oidc));
  if (problems.length > 0) throw new ConfigError(problems, source);

  const modeSet = overrides.modeSet || at(fileValue, 'mosquitto', 'mode') !== undefined;
  const strategySet = at(fileValue, 'mosquitto', 'reload', 'strategy') !== undefined;
  // The strategy follows the final mode unless the file chose one (MCM_MOSQUITTO_MODE may flip it).
  if (!strategySet) config.mosquitto.reload.strategy = config.mosquitto.mode === 'supervised' ? 'supervised' : 'none';
  resolvePaths(config, cwd);
  const crossProblems = crossFieldProblems(config);
  if (crossProblems.length > 0) throw new ConfigError(crossProblems, source);

  const warnings: string[] = [];
  if (!modeSet && binary === null) warnings.push(MOSQUITTO_NOT_FOUND_WARNING);
  else if (config.mosquitto.mode === 'supervised' && binary === null) {
    warnings.push(`mosquitto.mode is "supervised" but no executable mosquitto binary was found at "${config.mosquitto.binary}": set mosquitto.binary`);
  } else if (config.mosquitto.reload.strategy === 'none') {
    warnings.push('mosquitto.reload.strategy is "none": MCM writes the broker files but never reloads the broker, so changes are "written", never "applied"');
  }
  if (config.auth.bcrypt_cost < 12) warnings.push(`auth.bcrypt_cost ${config.auth.bcrypt_cost} is below 12 (DESIGN §9): for tests only`);
  if (!LOOPBACK.has(config.http.host) && config.http.tls.cert === null) {
    warnings.push(`http.host ${config.http.host} is not loopback and http.tls is not set: serve MCM behind a TLS proxy or configure http.tls`);
  }
  return { config, warnings, source };
};
