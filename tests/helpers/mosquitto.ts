/**
 * Starts a real mosquitto for a test: generated config in the test's temp dir, a free loopback
 * port, stopped by pid in t.after. In CI (CI=true) a missing binary is a failure, never a skip.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { freePort } from './ports.ts';

const CANDIDATES = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto', '/usr/local/sbin/mosquitto'];

export const mosquittoBinary = (): string | null => {
  for (const c of CANDIDATES) {
    if (spawnSync(c, ['-h']).error === undefined) return c;
  }
  const which = spawnSync('sh', ['-c', 'command -v mosquitto']);
  const out = which.stdout?.toString().trim();
  return out ? out : null;
};

/**
 * Returns the binary, or marks the test skipped outside CI. Inside CI a missing binary throws
 * with a clear message (DEVELOPERS.md: a broker test never silently skips in CI).
 */
export const requireMosquitto = (t: TestContext): string | null => {
  const bin = mosquittoBinary();
  if (bin) return bin;
  if (process.env.CI === 'true') throw new Error('mosquitto is not installed: run `npm run setup` (apt-get install mosquitto)');
  t.skip('mosquitto not installed (run npm run setup)');
  return null;
};

export type Broker = {
  port: number;
  pid: number;
  dir: string;
  confPath: string;
  child: ChildProcess;
  /** Everything the broker printed so far (log_dest stderr). */
  log(): string;
  /** Resolves when `text` shows up in the log (or rejects after timeoutMs). */
  waitForLog(text: string | RegExp, timeoutMs?: number, fromIndex?: number): Promise<void>;
  reload(): void;
  stop(): Promise<void>;
};

export type StartOptions = {
  dir: string;
  /** Lines after the listener, e.g. ['allow_anonymous false', 'password_file /x', 'acl_file /y']. */
  lines?: string[];
  port?: number;
  /**
   * Default true: as root the config says `user root` (test-only). False: the broker drops to its
   * own account (`mosquitto`) before reading its files, as a packaged broker does (reference §4).
   */
  stayRoot?: boolean;
};

/** Starts mosquitto; when running as root the config says `user root` (test-only, reference §4). */
export const startMosquitto = async (t: TestContext, bin: string, opts: StartOptions): Promise<Broker> => {
  const port = opts.port ?? (await freePort());
  const confPath = join(opts.dir, 'mosquitto.conf');
  const conf = [
    'per_listener_settings false',
    ...(process.getuid?.() === 0 && opts.stayRoot !== false ? ['user root'] : []),
    `listener ${port} 127.0.0.1`,
    // stdout is block-buffered when piped (lines arrive only at exit); stderr is not.
    'log_dest stderr',
    'log_type all',
    'connection_messages true',
    'persistence false',
    ...(opts.lines ?? []),
    '',
  ].join('\n');
  writeFileSync(confPath, conf);
  chmodSync(opts.dir, 0o755);
  const child = spawn(bin, ['-c', confPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const waiters = new Set<() => void>();
  const onData = (b: Buffer): void => {
    out += b.toString();
    for (const w of [...waiters]) w();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  let exited = false;
  const exitPromise = new Promise<void>((resolve) => child.once('exit', () => { exited = true; resolve(); }));

  const waitForLog = (text: string | RegExp, timeoutMs = 5000, fromIndex = 0): Promise<void> =>
    new Promise((resolve, reject) => {
      const check = (): boolean => {
        const hay = out.slice(fromIndex);
        return typeof text === 'string' ? hay.includes(text) : text.test(hay);
      };
      if (check()) return resolve();
      const timer = setTimeout(() => {
        waiters.delete(w);
        reject(new Error(`timed out waiting for ${String(text)} in mosquitto log:\n${out}`));
      }, timeoutMs);
      const w = (): void => {
        if (check()) { clearTimeout(timer); waiters.delete(w); resolve(); }
      };
      waiters.add(w);
      void exitPromise.then(() => { if (!check()) { clearTimeout(timer); waiters.delete(w); reject(new Error(`mosquitto exited (code ${child.exitCode}):\n${out}`)); } });
    });

  const stop = async (): Promise<void> => {
    if (exited) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exitPromise;
    clearTimeout(timer);
  };
  t.after(stop);
  // "Opening … listen socket" is logged before listen(); "running" comes after it.
  await waitForLog(`listen socket on port ${port}`, 5000);
  await waitForLog(/mosquitto version \S+ running/, 5000);
  return {
    port, pid: child.pid ?? -1, dir: opts.dir, confPath, child,
    log: () => out, waitForLog,
    reload: () => { child.kill('SIGHUP'); },
    stop,
  };
};

/**
 * Starts `mosquitto -c confPath` as written (no lines added) and resolves once it logs "running",
 * or false when it exits or 5 s pass; the broker's log comes back either way. Killed in t.after.
 */
export const runConf = async (t: TestContext, bin: string, confPath: string): Promise<{ running: boolean; log: string }> => {
  const child = spawn(bin, ['-c', confPath], { stdio: ['ignore', 'ignore', 'pipe'] });
  t.after(() => { child.kill('SIGKILL'); });
  let log = '';
  const running = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 5000);
    child.stderr?.on('data', (b: Buffer) => {
      log += b.toString();
      if (/mosquitto version \S+ running/.test(log)) { clearTimeout(timer); resolve(true); }
    });
    child.once('exit', () => { clearTimeout(timer); resolve(false); });
  });
  return { running, log };
};
