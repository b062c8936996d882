/**
 * The comparison broker for bench/apply-latency.ts: a second mosquitto with the dynamic-security
 * plugin (reference §6), driven through `$CONTROL/dynamic-security/v1` as an admin client. Its
 * changes apply without a reload, so it is the yardstick for MCM's file + SIGHUP + probe path.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { chmodSync, chownSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import type { MqttClient } from 'mqtt';
import { brokerAccountWhenRoot, isRoot } from '../adapters/mosquitto/permissions.ts';
import { locateDynsecPlugin } from '../adapters/dynsec/plugin-path.ts';

/** Where MCM itself looks (adapters/dynsec/plugin-path.ts). */
export const findDynsecPlugin = (): string | null => locateDynsecPlugin();

export type DynsecBroker = {
  port: number;
  admin: MqttClient;
  /** Sends commands and resolves with the responses (throws on any per-command error). */
  control(commands: Record<string, unknown>[]): Promise<unknown[]>;
  /** Sends without waiting for the response; resolves when the response arrives. */
  controlAsync(commands: Record<string, unknown>[]): { sent: Promise<void>; response: Promise<unknown[]> };
  stop(): Promise<void>;
};

const ADMIN = 'bench-admin';
const ADMIN_PW = 'bench-admin-pw';

export const connectV5 = (port: number, username: string, password: string, clientId: string): Promise<MqttClient> =>
  new Promise((resolve, reject) => {
    const c = mqtt.connect({ host: '127.0.0.1', port, protocolVersion: 5, username, password, clientId, reconnectPeriod: 0, connectTimeout: 10_000 });
    c.once('connect', () => resolve(c));
    c.once('error', (e) => { c.end(true); reject(e); });
  });

/** A dynsec client entry as the plugin saves it (reference §6.2), with its own role of `acls`. */
export type DynsecSeed = Readonly<{ username: string; password: string; acls: readonly { acltype: string; topic: string; allow: boolean }[] }>;

/**
 * Adds clients (each with a role `r-<username>`) straight into the plugin's JSON before the broker
 * starts: creating 10,000 clients through the API one batch at a time is quadratic (the plugin
 * rewrites the whole file after every request). Same PBKDF2-SHA512 fields as the plugin writes.
 */
const seedJson = (file: string, seeds: readonly DynsecSeed[]): void => {
  const json = JSON.parse(readFileSync(file, 'utf8')) as { clients: unknown[]; roles: unknown[] };
  const salt = randomBytes(12);
  const hashes = new Map<string, string>();
  for (const s of seeds) {
    let hash = hashes.get(s.password);
    if (!hash) {
      hash = pbkdf2Sync(Buffer.from(s.password, 'utf8'), salt, 101, 64, 'sha512').toString('base64');
      hashes.set(s.password, hash);
    }
    json.clients.push({ username: s.username, password: hash, salt: salt.toString('base64'), iterations: 101, roles: [{ rolename: `r-${s.username}`, priority: -1 }] });
    json.roles.push({ rolename: `r-${s.username}`, acls: s.acls.map((a) => ({ ...a, priority: 0 })) });
  }
  writeFileSync(file, JSON.stringify(json));
};

export const startDynsecBroker = async (opts: { bin: string; dir: string; port: number; seed?: readonly DynsecSeed[] }): Promise<DynsecBroker> => {
  const plugin = findDynsecPlugin();
  if (!plugin) throw new Error('mosquitto_dynamic_security.so not found');
  const file = join(opts.dir, 'dynamic-security.json');
  const init = spawnSync('mosquitto_ctrl', ['dynsec', 'init', file, ADMIN, ADMIN_PW], { encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`mosquitto_ctrl dynsec init failed: ${init.stderr}`);
  if (opts.seed) seedJson(file, opts.seed);
  const conf = join(opts.dir, 'mosquitto.conf');
  writeFileSync(conf, [
    'per_listener_settings false',
    `listener ${opts.port} 127.0.0.1`,
    'allow_anonymous false',
    `plugin ${plugin}`,
    `plugin_opt_config_file ${file}`,
    'persistence false',
    'log_dest stderr',
    'log_type error',
    '',
  ].join('\n'));
  // As root the broker runs as `mosquitto`, and dynsec must write its JSON dir (reference §4).
  const account = isRoot() ? brokerAccountWhenRoot() : null;
  chmodSync(opts.dir, 0o755);
  if (account) {
    chownSync(opts.dir, account.uid, account.gid);
    chownSync(file, account.uid, account.gid);
  }
  const child: ChildProcess = spawn(opts.bin, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr?.on('data', (b: Buffer) => { log += b.toString(); });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  let admin: MqttClient | null = null;
  for (let i = 0; i < 100 && !admin; i++) {
    admin = await connectV5(opts.port, ADMIN, ADMIN_PW, 'bench-admin').catch(() => null);
    if (!admin) await new Promise((r) => setTimeout(r, 50));
  }
  if (!admin) { child.kill('SIGKILL'); throw new Error(`dynsec broker did not come up:\n${log}`); }
  const a = admin;
  await a.subscribeAsync('$CONTROL/dynamic-security/v1/response', { qos: 1 });
  let corr = 0;
  const waiting = new Map<string, (r: { responses: { error?: string; command: string }[] }) => void>();
  a.on('message', (_t, payload) => {
    const body = JSON.parse(payload.toString()) as { responses: { error?: string; command: string; correlationData?: string }[] };
    const id = body.responses[0]?.correlationData;
    if (id) waiting.get(id)?.(body);
  });
  const controlAsync = (commands: Record<string, unknown>[]) => {
    const id = `c${++corr}`;
    // The plugin answers a batch in one response; correlationData on the first command finds it.
    const tagged = commands.map((c, i) => (i === 0 ? { ...c, correlationData: id } : c));
    const response = new Promise<unknown[]>((resolve, reject) => {
      waiting.set(id, (body) => {
        waiting.delete(id);
        const bad = body.responses.find((r) => r.error);
        if (bad) reject(new Error(`dynsec ${bad.command}: ${bad.error}`)); else resolve(body.responses);
      });
    });
    const sent = a.publishAsync('$CONTROL/dynamic-security/v1', JSON.stringify({ commands: tagged }), { qos: 1 }).then(() => undefined);
    sent.catch(() => undefined); // a failure shows up as a missing response
    return { sent, response };
  };
  return {
    port: opts.port,
    admin: a,
    control: (commands) => controlAsync(commands).response,
    controlAsync,
    async stop() {
      a.end(true);
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(killer);
    },
  };
};
