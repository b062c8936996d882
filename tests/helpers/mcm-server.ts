/**
 * Starts the whole server (adapters/main.ts) for a test: its own data dir (0755 so the broker's
 * user can traverse it when the test runs as root, reference §4), a free loopback port, a real
 * supervised mosquitto, stopped in t.after. Commands go through handleCommand as in production.
 */
import { chmodSync } from 'node:fs';
import type { TestContext } from 'node:test';
import type { Command } from '../../core/commands.ts';
import { handleCommand } from '../../core/handle-command.ts';
import type { Config } from '../../adapters/config/config.ts';
import { defaultConfig } from '../../adapters/config/defaults.ts';
import { createMosquittoHasher } from '../../adapters/mosquitto/password-hash.ts';
import { startServer, type RunningServer, type StartServerOptions } from '../../adapters/main.ts';
import { createLogger } from '../../adapters/logging/logger.ts';
import { freePort } from './ports.ts';
import { tempDir } from './temp-dir.ts';

export type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? (T[K] extends unknown[] ? T[K] : DeepPartial<T[K]>) : T[K] };

const merge = <T>(base: T, over: DeepPartial<T> | undefined): T => {
  if (!over) return base;
  const out = { ...base } as Record<string, unknown>;
  for (const [k, v] of Object.entries(over)) {
    const b = (base as Record<string, unknown>)[k];
    out[k] = v !== null && typeof v === 'object' && !Array.isArray(v) && b !== null && typeof b === 'object' ? merge(b, v as DeepPartial<typeof b>) : v;
  }
  return out as T;
};

/** A config for tests: supervised, free port, short probe timeout, no periodic probe unless asked. */
export const testConfig = async (bin: string, dataDir: string, over?: DeepPartial<Config>): Promise<Config> => {
  const base = defaultConfig({ mosquittoBinary: bin });
  const port = await freePort();
  const defaults = merge(base, {
    data_dir: dataDir,
    log_level: 'silent',
    mqtt: { port },
    mosquitto: { mode: 'supervised', binary: bin, debounce_ms: 10, probe: { timeout_ms: 3000, interval_s: 3600 } },
  });
  return merge(defaults, over);
};

export const testDataDir = (t: TestContext): string => {
  const dir = tempDir(t, 'mcm-apply-');
  chmodSync(dir, 0o755);
  return dir;
};

export type TestServer = RunningServer & {
  config: Config;
  port: number;
  dataDir: string;
  /** handleCommand as the CLI actor; returns the new seq. */
  run(command: Command): number;
  /** A `$7$` hash at the state's iteration count. */
  hash(password: string): Promise<string>;
  /** Runs `command` and waits until its generation is applied (or failed). */
  apply(command: Command, timeoutMs?: number): Promise<import('../../adapters/apply/apply-status.ts').ApplyOutcome>;
};

export const startTestServer = async (
  t: TestContext,
  bin: string,
  opts: { config?: DeepPartial<Config>; dataDir?: string; testing?: StartServerOptions['testing']; forceTakeover?: boolean } = {},
): Promise<TestServer> => {
  const dataDir = opts.dataDir ?? testDataDir(t);
  const config = await testConfig(bin, dataDir, opts.config);
  const server = await startServer({
    config, logger: createLogger({ level: 'silent' }),
    ...(opts.testing ? { testing: opts.testing } : {}),
    ...(opts.forceTakeover ? { forceTakeover: true } : {}),
  });
  t.after(() => server.stop());
  const hasher = createMosquittoHasher();
  const clock = { now: () => new Date().toISOString() };
  const run = (command: Command): number => handleCommand({ store: server.store, clock }, command, { actor: { kind: 'cli', id: 'test' } }).seq;
  return {
    ...server,
    config,
    port: config.mqtt.port,
    dataDir,
    run,
    hash: (password) => hasher.hash(password, server.store.state().settings.hashIterations),
    async apply(command, timeoutMs = 8000) {
      const wait = (gen: number) => server.applyLoop.waitForGeneration(gen, timeoutMs);
      const seq = run(command);
      return wait(seq);
    },
  };
};
