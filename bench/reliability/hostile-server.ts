/**
 * The whole MCM server for the hostile-input scenarios (hostile-mqtt.ts, hostile-ws.ts), started
 * as `mcm server` starts it (adapters/main.ts + adapters/http/start-http.ts): its own data dir,
 * a supervised mosquitto on a free loopback port, the observer, the HTTP API and the ws hub.
 * Context-free (no node:test): everything is stopped and removed through `cleanups`.
 */
import { chmodSync } from 'node:fs';
import type { Command } from '../../core/commands.ts';
import { handleCommand } from '../../core/handle-command.ts';
import type { Config } from '../../adapters/config/config.ts';
import { defaultConfig, findMosquitto } from '../../adapters/config/defaults.ts';
import { startHttp, type RunningHttp } from '../../adapters/http/start-http.ts';
import { createLogger } from '../../adapters/logging/logger.ts';
import { startServer, type RunningServer } from '../../adapters/main.ts';
import { createMosquittoHasher } from '../../adapters/mosquitto/password-hash.ts';
import { freePort } from '../../tests/helpers/ports.ts';
import type { Cleanups } from './cleanups.ts';

export const HOSTILE_ADMIN = { username: 'hostile-admin', password: 'hostile-admin-password-0123' } as const;

export type HostileServer = {
  server: RunningServer;
  http: RunningHttp;
  config: Config;
  /** The broker's MQTT port. */
  mqttPort: number;
  /** An admin session token (signed in over HTTP). */
  token: string;
  /** handleCommand as a system actor; resolves once the change is applied to the broker. */
  apply(command: Command): Promise<void>;
  /** A `$7$` hash at the state's iteration count. */
  hash(password: string): Promise<string>;
  /** fetch against the API with the admin token. */
  api(method: string, path: string, body?: unknown): Promise<{ status: number; body: any; text: string }>;
};

/** The mosquitto binary, or an error that says how to get one. */
export const requireBroker = (): string => {
  const bin = findMosquitto();
  if (!bin) throw new Error('mosquitto is not installed: run `npm run setup` (apt-get install mosquitto)');
  return bin;
};

/** Polls `pred` every 20 ms until it holds; throws `what` after `timeoutMs`. */
export const until = async (pred: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

export const startHostileServer = async (cleanups: Cleanups, bin: string): Promise<HostileServer> => {
  const dataDir = cleanups.tempDir('mcm-hostile-');
  // The broker's user (root runs it as mosquitto) must traverse the data dir.
  chmodSync(dataDir, 0o755);
  const config = defaultConfig({ mosquittoBinary: bin });
  config.data_dir = dataDir;
  config.log_level = 'silent';
  config.http.port = 0;
  config.mqtt.port = await freePort();
  config.auth.bcrypt_cost = 4;
  config.bootstrap_admin = { ...HOSTILE_ADMIN };
  config.mosquitto = { ...config.mosquitto, mode: 'supervised', binary: bin, debounce_ms: 10, probe: { ...config.mosquitto.probe, timeout_ms: 3000, interval_s: 3600 } };

  const server = await startServer({ config, logger: createLogger({ level: 'silent' }) });
  cleanups.add(() => server.stop());
  const http = await startHttp(server.deps);
  cleanups.add(() => http.close());

  const login = await fetch(`${http.url}/api/v1/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(HOSTILE_ADMIN),
  });
  const token = ((await login.json()) as { token?: string }).token;
  if (login.status !== 200 || typeof token !== 'string') throw new Error(`admin sign-in failed: ${login.status}`);

  const clock = { now: () => new Date().toISOString() };
  const hasher = createMosquittoHasher();
  const api = async (method: string, path: string, body?: unknown): Promise<{ status: number; body: any; text: string }> => {
    const res = await fetch(`${http.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try { parsed = JSON.parse(text); } catch { /* not JSON */ }
    return { status: res.status, body: parsed, text };
  };
  await until(() => server.deps.observation.observer.connected(), 'the observer to connect to the supervised broker');
  return {
    server, http, config, mqttPort: config.mqtt.port, token, api,
    hash: (password) => hasher.hash(password, server.store.state().settings.hashIterations),
    apply: async (command) => {
      const seq = handleCommand({ store: server.store, clock }, command, { actor: { kind: 'system', id: 'hostile-setup' } }).seq;
      const outcome = await server.applyLoop.waitForGeneration(seq, 10_000);
      if (outcome.result !== 'applied') throw new Error(`${command.type} was not applied: ${outcome.result} ${outcome.reason ?? ''}`);
    },
  };
};
