/**
 * Shared set-up for the observer tests against a real mosquitto: a broker whose password and ACL
 * files are rendered by MCM's own projections for the service account and one MQTT user, an
 * observer logged in as the service account, MQTT test clients, and a bounded wait.
 */
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import mqtt from 'mqtt';
import type { IClientOptions, MqttClient } from 'mqtt';
import type { Config } from '../../adapters/config/config.ts';
import { defaultConfig } from '../../adapters/config/defaults.ts';
import { createLiveBus, type LiveBus, type LiveMessage } from '../../adapters/live/live-bus.ts';
import type { MessageProcessor } from '../../adapters/live/observed-message.ts';
import { createMosquittoHasher } from '../../adapters/mosquitto/password-hash.ts';
import { createObserver, type Observer } from '../../adapters/mqtt/observer.ts';
import { createSqliteEventStore } from '../../adapters/sqlite/event-store.ts';
import { openDatabase } from '../../adapters/sqlite/open-database.ts';
import { handleCommand } from '../../core/handle-command.ts';
import type { EventStore } from '../../core/ports.ts';
import { renderAclFileFromState } from '../../projections/acl-file.ts';
import { renderPasswordFile } from '../../projections/password-file.ts';
import { startMosquitto, type Broker } from '../helpers/mosquitto.ts';
import { tempDir } from '../helpers/temp-dir.ts';

export const SVC = 'mcm-service';
export const SVC_PASSWORD = 'svc-secret-0123';
export const USER = 'alice';
export const USER_PASSWORD = 'alice-secret-0123';

export type BrokerFiles = { dir: string; passwd: string; acl: string };

/** Polls `cond` every 20 ms; fails with `what` after `timeoutMs` (generous: the machine is shared). */
export const waitFor = async (cond: () => boolean, what: string, timeoutMs = 15_000): Promise<void> => {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

/**
 * The password and ACL files as MCM renders them: the service account with the rights DESIGN §6
 * gives it, and `alice` (readwrite plant/#), via the real projections.
 */
export const writeBrokerFiles = async (t: TestContext): Promise<BrokerFiles> => {
  const dir = tempDir(t, 'mcm-observer-');
  chmodSync(dir, 0o755);
  const hasher = createMosquittoHasher();
  const db = openDatabase(join(dir, 'files.db'));
  const store: EventStore = createSqliteEventStore({ db });
  const ctx = { actor: { kind: 'system' as const, id: 'test' } };
  const deps = { store, clock: { now: () => new Date().toISOString() } };
  handleCommand(deps, { type: 'CreateMqttUser', data: { username: USER, passwordHash: await hasher.hash(USER_PASSWORD, 101) } }, ctx);
  handleCommand(deps, { type: 'AddAclRule', data: { principal: `user:${USER}`, topic: 'plant/#', access: 'readwrite' } }, ctx);
  handleCommand(deps, { type: 'AddAclRule', data: { principal: `user:${USER}`, topic: 'sentinel/#', access: 'readwrite' } }, ctx);
  const state = store.state();
  const service = { username: SVC, passwordHash: await hasher.hash(SVC_PASSWORD, 101) };
  const passwd = join(dir, 'passwd');
  const acl = join(dir, 'acl');
  writeFileSync(passwd, renderPasswordFile(state, { serviceAccount: service }), { mode: 0o644 });
  writeFileSync(acl, renderAclFileFromState(state, { serviceAccount: SVC, generation: state.generation }), { mode: 0o644 });
  db.close();
  return { dir, passwd, acl };
};

export const startBroker = (t: TestContext, bin: string, files: BrokerFiles, extra: string[] = [], port?: number): Promise<Broker> =>
  startMosquitto(t, bin, {
    dir: files.dir,
    lines: ['allow_anonymous false', `password_file ${files.passwd}`, `acl_file ${files.acl}`, 'sys_interval 1', ...extra],
    ...(port === undefined ? {} : { port }),
  });

export const observerConfig = (port: number): Pick<Config, 'mqtt'> => {
  const config = defaultConfig({ mosquittoBinary: null });
  config.mqtt.host = '127.0.0.1';
  config.mqtt.port = port;
  return config;
};

export type ObserverHarness = { observer: Observer; bus: LiveBus; seen: LiveMessage[] };

export const startObserver = (
  t: TestContext,
  port: number,
  opts: { processors?: MessageProcessor[]; password?: string; sysLogLine?: (line: string) => void; bus?: LiveBus } = {},
): ObserverHarness => {
  const bus = opts.bus ?? createLiveBus();
  const seen: LiveMessage[] = [];
  bus.subscribe((m) => seen.push(m));
  const silent = { info() {}, warn() {}, error() {}, debug() {} };
  const observer = createObserver({
    config: observerConfig(port),
    serviceAccount: { username: SVC, password: opts.password ?? SVC_PASSWORD },
    bus,
    clock: { now: () => new Date().toISOString() },
    logger: silent,
    processors: opts.processors ?? [],
    sysLogLine: opts.sysLogLine ?? null,
    backoff: { initialMs: 100, maxMs: 500 },
    statsThrottleMs: 100,
  });
  t.after(() => observer.stop());
  observer.start();
  return { observer, bus, seen };
};

/** An MQTT client that is connected (or the connect error), ended in t.after. */
export const connectClient = (t: TestContext, port: number, opts: IClientOptions = {}): Promise<MqttClient> =>
  new Promise((resolve, reject) => {
    const c = mqtt.connect({ host: '127.0.0.1', port, reconnectPeriod: 0, connectTimeout: 10_000, username: USER, password: USER_PASSWORD, ...opts });
    t.after(() => new Promise<void>((r) => c.end(true, () => r())));
    c.once('connect', () => resolve(c));
    c.once('error', reject);
  });

/** Ends a client cleanly (DISCONNECT), resolving when done. */
export const endClient = (c: MqttClient): Promise<void> => new Promise((r) => c.end(false, () => r()));
