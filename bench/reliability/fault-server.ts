/**
 * The fault scenarios' world (issue 8, "Faults"): one data dir and one pair of loopback ports that
 * outlive the `bin/mcm server` processes started on them, so a scenario can SIGKILL the server
 * and start it again on the same data dir, as an operator's service manager would. Everything is
 * registered with the scenario's cleanups: the processes it started (by pid), a broker a killed
 * server left behind (by its own pid file), the temp dir.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stopOrphan } from '../../adapters/mosquitto/supervisor.ts';
import type { Cleanups } from './cleanups.ts';
import { freePort } from '../../tests/helpers/ports.ts';

const MCM_BIN = fileURLToPath(new URL('../../bin/mcm', import.meta.url));
const OUTPUT_TAIL_CHARS = 64 * 1024;

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export { freePort };

export type FaultWorld = Readonly<{
  root: string;
  dataDir: string;
  baseUrl: string;
  mqttPort: number;
  admin: Readonly<{ username: string; password: string }>;
  /** The supervised broker's pid file and generated config (adapters/main.ts brokerPaths). */
  brokerPidFile: string;
  brokerConf: string;
  env: NodeJS.ProcessEnv;
}>;

export type WorldOptions = Readonly<{
  prefix: string;
  /** Called with the (empty, existing) data dir before anything is written to it: e.g. mount a tmpfs there. */
  prepareDataDir?: (dataDir: string) => void;
}>;

/** A temp dir with `data/`, a config file (bcrypt cost 4: tests sign in often) and free ports. */
export const createFaultWorld = async (cleanups: Cleanups, opts: WorldOptions): Promise<FaultWorld> => {
  const root = cleanups.tempDir(opts.prefix);
  const dataDir = join(root, 'data');
  mkdirSync(dataDir);
  opts.prepareDataDir?.(dataDir);
  // The broker's user (when run as root) must traverse the data dir (reference §4).
  chmodSync(root, 0o755);
  chmodSync(dataDir, 0o755);
  const configPath = join(root, 'mcm.yaml');
  writeFileSync(configPath, [
    'auth:',
    '  bcrypt_cost: 4',
    'mosquitto:',
    '  mode: supervised',
    '  probe:',
    '    timeout_ms: 3000',
    '',
  ].join('\n'));
  const [httpPort, mqttPort] = [await freePort(), await freePort()];
  const admin = { username: 'fault-admin', password: 'fault-admin-Pa55word-long' };
  const brokerDir = join(dataDir, 'mosquitto');
  const world: FaultWorld = {
    root,
    dataDir,
    baseUrl: `http://127.0.0.1:${httpPort}`,
    mqttPort,
    admin,
    brokerPidFile: join(brokerDir, 'supervised.pid'),
    brokerConf: join(brokerDir, 'mosquitto.conf'),
    env: {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      HOME: root,
      MCM_CONFIG: configPath,
      MCM_DATA_DIR: dataDir,
      MCM_HTTP_HOST: '127.0.0.1',
      MCM_HTTP_PORT: String(httpPort),
      MCM_MQTT_HOST: '127.0.0.1',
      MCM_MQTT_PORT: String(mqttPort),
      MCM_MOSQUITTO_MODE: 'supervised',
      // warn: no access log line per request, but every error and restart.
      MCM_LOG_LEVEL: 'warn',
      MCM_ADMIN_USERNAME: admin.username,
      MCM_ADMIN_PASSWORD: admin.password,
    },
  };
  // Registered before any server starts, so it runs after they are all stopped: a broker that a
  // SIGKILLed server left behind is ours to stop too.
  cleanups.add(() => stopOrphan(world.brokerPidFile, world.brokerConf));
  return world;
};

export type Exit = Readonly<{ code: number | null; signal: NodeJS.Signals | null }>;

export type ServerProcess = {
  readonly pid: number;
  readonly startedAt: number;
  /** The last 64 KiB the process printed. */
  output(): string;
  alive(): boolean;
  exited: Promise<Exit>;
  /** Resolves when /readyz answers 200; rejects when the process exits first or after timeoutMs. */
  ready(timeoutMs?: number): Promise<void>;
  kill(signal: NodeJS.Signals): void;
  /** SIGTERM, SIGKILL after `graceMs`; resolves with the exit. */
  stop(graceMs?: number): Promise<Exit>;
};

/** Starts `bin/mcm server` on the world's data dir and ports (bin/mcm execs Node: the pid is the server's). */
export const spawnServer = (world: FaultWorld, cleanups: Cleanups): ServerProcess => {
  const child: ChildProcess = spawn(MCM_BIN, ['server'], { env: world.env, cwd: world.root, stdio: ['ignore', 'pipe', 'pipe'] });
  const startedAt = performance.now();
  let out = '';
  const onData = (b: Buffer): void => {
    out += b.toString();
    if (out.length > OUTPUT_TAIL_CHARS * 2) out = out.slice(-OUTPUT_TAIL_CHARS);
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  let exit: Exit | null = null;
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => { exit = { code, signal }; resolve(exit); });
  });
  const kill = (signal: NodeJS.Signals): void => {
    if (exit === null && child.pid !== undefined) {
      try { process.kill(child.pid, signal); } catch { /* already gone */ }
    }
  };
  const stop = async (graceMs = 15_000): Promise<Exit> => {
    if (exit !== null) return exit;
    kill('SIGTERM');
    const timer = setTimeout(() => kill('SIGKILL'), graceMs);
    const e = await exited;
    clearTimeout(timer);
    return e;
  };
  cleanups.add(() => stop(5000));
  return {
    pid: child.pid ?? -1,
    startedAt,
    output: () => out,
    alive: () => exit === null,
    exited,
    kill,
    stop,
    async ready(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (exit !== null) {
          const e: Exit = exit;
          throw new Error(`mcm server exited during start (code ${e.code}, signal ${e.signal}):\n${out.slice(-4000)}`);
        }
        try {
          const res = await fetch(`${world.baseUrl}/readyz`, { signal: AbortSignal.timeout(2000) });
          await res.arrayBuffer();
          if (res.status === 200) return;
        } catch { /* not listening yet */ }
        if (Date.now() > deadline) throw new Error(`mcm server not ready within ${timeoutMs} ms:\n${out.slice(-4000)}`);
        await sleep(25);
      }
    },
  };
};

/** The supervised broker's pid from its pid file, or null. */
export const brokerPid = (world: FaultWorld): number | null => {
  try {
    const pid = Number(readFileSync(world.brokerPidFile, 'utf8').trim());
    return Number.isInteger(pid) && pid > 1 ? pid : null;
  } catch {
    return null;
  }
};

/** Live processes running `mosquitto … -c <this world's conf>` (leftovers are a finding). */
export const brokersOf = (world: FaultWorld): number[] => {
  const pids: number[] = [];
  let names: string[];
  try { names = readdirSync('/proc').filter((n) => /^\d+$/.test(n)); } catch { return pids; }
  for (const name of names) {
    let cmd: string;
    try { cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8'); } catch { continue; }
    const argv = cmd.split('\0');
    if (argv.some((a) => a.endsWith('mosquitto')) && argv.includes(world.brokerConf) && !isZombie(Number(name))) pids.push(Number(name));
  }
  return pids;
};

const isZombie = (pid: number): boolean => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return true;
  }
};

/** Polls `check` every `everyMs` until it returns a value other than undefined, or throws after timeoutMs. */
export const waitUntil = async <T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs: number, everyMs = 20): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
};

/** Nearest-rank percentile of `values` (ms), rounded to 0.1; null when empty. */
export const percentile = (values: readonly number[], q: number): number | null => {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const v = sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
  return Math.round(v * 10) / 10;
};
