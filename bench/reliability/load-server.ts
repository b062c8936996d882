/**
 * `bin/mcm server` as a separate process for the load scenario, so the RSS it reports is the
 * server's own (and the supervised mosquitto's, its child, separately): its own temp dir with a
 * config file (bcrypt cost 4: the scenario creates 60 admin users), free loopback ports, the
 * first admin from MCM_ADMIN_USERNAME / MCM_ADMIN_PASSWORD. `stop()` sends SIGTERM (SIGKILL
 * after a bound) to the pid it started, then removes the temp dir.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../tests/helpers/ports.ts';

const MCM_BIN = fileURLToPath(new URL('../../bin/mcm', import.meta.url));
const OUTPUT_TAIL_CHARS = 64 * 1024;

export type LoadServer = {
  baseUrl: string;
  mqttPort: number;
  dataDir: string;
  /** The `mcm server` process (bin/mcm execs Node, so this is the server itself). */
  pid: number;
  /** The supervised mosquitto's pid as of now (it may have been restarted). */
  brokerPid(): number | null;
  /** The last 64 KiB the server printed (stdout and stderr). */
  output(): string;
  /** False once the process has exited. */
  alive(): boolean;
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
};

export { freePort };

/** VmRSS of a process in bytes (from /proc), or null when it is gone. */
export const rssBytes = (pid: number): number | null => {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
};

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export const startLoadServer = async (opts: {
  admin: { username: string; password: string };
  log: (line: string) => void;
  startTimeoutMs?: number;
}): Promise<LoadServer> => {
  const root = mkdtempSync(join(tmpdir(), 'mcm-load-'));
  const dataDir = join(root, 'data');
  mkdirSync(dataDir);
  // The broker's user (when run as root) must traverse the data dir (reference §4).
  chmodSync(root, 0o755);
  chmodSync(dataDir, 0o755);
  const configPath = join(root, 'mcm.yaml');
  writeFileSync(configPath, [
    'auth:',
    '  bcrypt_cost: 4',
    'mosquitto:',
    '  mode: supervised',
    '',
  ].join('\n'));
  const [httpPort, mqttPort] = [await freePort(), await freePort()];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    MCM_CONFIG: configPath,
    MCM_DATA_DIR: dataDir,
    MCM_HTTP_HOST: '127.0.0.1',
    MCM_HTTP_PORT: String(httpPort),
    MCM_MQTT_HOST: '127.0.0.1',
    MCM_MQTT_PORT: String(mqttPort),
    MCM_MOSQUITTO_MODE: 'supervised',
    // warn: the access log at info would be ~1,000 lines/s under this load.
    MCM_LOG_LEVEL: 'warn',
    MCM_ADMIN_USERNAME: opts.admin.username,
    MCM_ADMIN_PASSWORD: opts.admin.password,
    // MCM_LOAD_CPU_PROF=<dir>: a V8 CPU profile of the server, written when it stops.
    ...(process.env['MCM_LOAD_CPU_PROF'] ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${process.env['MCM_LOAD_CPU_PROF']}` } : {}),
  };
  const child: ChildProcess = spawn(MCM_BIN, ['server'], { env, cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const onData = (b: Buffer): void => {
    out += b.toString();
    if (out.length > OUTPUT_TAIL_CHARS * 2) out = out.slice(-OUTPUT_TAIL_CHARS);
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => { exit = { code, signal }; resolve(exit); });
  });
  const baseUrl = `http://127.0.0.1:${httpPort}`;
  const pidFile = join(dataDir, 'mosquitto', 'supervised.pid');

  const stop = async (): Promise<{ code: number | null; signal: NodeJS.Signals | null }> => {
    if (exit === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => { if (exit === null) child.kill('SIGKILL'); }, 15_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(root, { recursive: true, force: true });
    return exit ?? { code: null, signal: null };
  };

  // Ready: /readyz answers 200 (database answers, broker up).
  const deadline = Date.now() + (opts.startTimeoutMs ?? 30_000);
  for (;;) {
    if (exit !== null) {
      const e: { code: number | null } = exit;
      await stop();
      throw new Error(`mcm server exited during start (code ${e.code}):\n${out.slice(-4000)}`);
    }
    try {
      const res = await fetch(`${baseUrl}/readyz`);
      await res.arrayBuffer();
      if (res.status === 200) break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`mcm server not ready within ${opts.startTimeoutMs ?? 30_000} ms:\n${out.slice(-4000)}`);
    }
    await sleep(100);
  }
  opts.log(`mcm server pid ${child.pid} ready on ${baseUrl}, broker on 127.0.0.1:${mqttPort}`);

  return {
    baseUrl,
    mqttPort,
    dataDir,
    pid: child.pid ?? -1,
    brokerPid: () => {
      try {
        const pid = Number(readFileSync(pidFile, 'utf8').trim());
        return Number.isInteger(pid) && pid > 0 ? pid : null;
      } catch {
        return null;
      }
    },
    output: () => out,
    alive: () => exit === null,
    stop,
  };
};
