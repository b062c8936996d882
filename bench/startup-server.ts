/**
 * `mcm server` as an operator runs it (bin/mcm server, configured through the
 * environment, DESIGN §8) on the start-up bench's data dir: times from spawn to the first
 * `/healthz` 200 and the first `/readyz` 200, then (optionally) lets it idle and reads its memory:
 * VmRSS/VmHWM from /proc/<pid>/status and the V8 heap from `/metrics` (prom-client's defaults).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../tests/helpers/ports.ts';
import { killProcessesUnder } from '../tests/helpers/stop-process.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const node = join(root, 'node_modules', '.bin', 'node');

export type ServerRun = {
  mode: string;
  /** null when the server exited (or never answered) before. */
  healthz_ms: number | null;
  readyz_ms: number | null;
  rss_mib: number | null;
  hwm_mib: number | null;
  heap_used_mib: number | null;
  heap_total_mib: number | null;
  /** Why it did not serve, when it did not (the last lines it wrote). */
  failure: string | null;
};

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const status = async (url: string): Promise<number> => {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
};

const procMiB = (pid: number, field: string): number | null => {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
};

const metricMiB = (text: string, name: string): number | null => {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)`, 'm').exec(text);
  return m ? Number(m[1]) / 2 ** 20 : null;
};

export type ServerOptions = Readonly<{ dataDir: string; mode: 'supervised' | 'external'; settleMs: number; timeoutMs: number; env?: Readonly<Record<string, string>> }>;

export const runServer = async (opts: ServerOptions): Promise<ServerRun> => {
  const [httpPort, mqttPort] = [await freePort(), await freePort()];
  const started = performance.now();
  // As operators start it (`mcm server`, `npm start`): through bin/mcm, with its environment.
  const child = spawn(join(root, 'bin', 'mcm'), ['server'], {
    cwd: root, stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      ...process.env, MCM_CONFIG: '', MCM_DATA_DIR: opts.dataDir, MCM_HTTP_HOST: '127.0.0.1', MCM_HTTP_PORT: String(httpPort),
      MCM_MQTT_HOST: '127.0.0.1', MCM_MQTT_PORT: String(mqttPort), MCM_MOSQUITTO_MODE: opts.mode, MCM_LOG_LEVEL: 'warn',
      ...opts.env,
    },
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000); });
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => { exited = true; resolve(); }));
  const url = `http://127.0.0.1:${httpPort}`;
  const run: ServerRun = { mode: opts.mode, healthz_ms: null, readyz_ms: null, rss_mib: null, hwm_mib: null, heap_used_mib: null, heap_total_mib: null, failure: null };
  try {
    const deadline = started + opts.timeoutMs;
    while (run.readyz_ms === null && !exited && performance.now() < deadline) {
      if (run.healthz_ms === null && (await status(`${url}/healthz`)) === 200) run.healthz_ms = performance.now() - started;
      if (run.healthz_ms !== null && (await status(`${url}/readyz`)) === 200) run.readyz_ms = performance.now() - started;
      else await sleep(20);
    }
    if (run.healthz_ms === null) {
      run.failure = exited ? stderr.trim().split('\n').slice(-3).join(' | ').slice(0, 600) : `no /healthz 200 within ${opts.timeoutMs} ms`;
      return run;
    }
    if (opts.settleMs > 0) {
      await sleep(opts.settleMs);
      const pid = child.pid ?? 0;
      run.rss_mib = procMiB(pid, 'VmRSS');
      run.hwm_mib = procMiB(pid, 'VmHWM');
      try {
        const text = await (await fetch(`${url}/metrics`)).text();
        run.heap_used_mib = metricMiB(text, 'mcm_nodejs_heap_size_used_bytes');
        run.heap_total_mib = metricMiB(text, 'mcm_nodejs_heap_size_total_bytes');
      } catch { /* the RSS is the figure; the heap is a bonus */ }
    }
    return run;
  } finally {
    if (!exited) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exit;
      clearTimeout(killer);
    }
    // A supervised mosquitto still loading its 100,000-user acl_file when the server was killed
    // (its stop waits for the start to finish) outlives the server.
    killProcessesUnder(opts.dataDir);
  }
};
