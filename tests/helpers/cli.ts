/**
 * Runs bin/mcm as a child process, as an operator would: in `cwd`, with only PATH, HOME, a compile cache and the
 * given variables (plus NODE_V8_COVERAGE under c8, so the CLI's code counts towards coverage);
 * `stdin` is piped in when given.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Command } from '../../core/commands.ts';
import type { EventEnvelope } from '../../core/events.ts';
import { handleCommand } from '../../core/handle-command.ts';
import type { BrokerConfig } from '../../core/state.ts';
import { createSqliteEventStore } from '../../adapters/sqlite/event-store.ts';
import { openDatabase } from '../../adapters/sqlite/open-database.ts';
import { tempDir } from './temp-dir.ts';

export const MCM_BIN = fileURLToPath(new URL('../../bin/mcm', import.meta.url));

export type CliRun = { code: number | null; stdout: string; stderr: string };

/**
 * One compile cache for this test file's `mcm` runs (private: mkdtemp makes it 0700), so they
 * don't each compile cold and don't put a `.cache` into the cwd that HOME points at.
 */
let compileCache: string | null = null;
const compileCacheDir = (): string => {
  if (compileCache === null) {
    const dir = mkdtempSync(join(tmpdir(), 'mcm-test-compile-cache-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    compileCache = dir;
  }
  return compileCache;
};

export type CliRunOptions = { cwd: string; env?: Record<string, string>; stdin?: string };

export const runMcm = (args: string[], opts: CliRunOptions, bin: string = MCM_BIN): Promise<CliRun> =>
  new Promise((resolve, reject) => {
    const child = spawn(bin, args, {
      cwd: opts.cwd,
      env: {
        PATH: process.env['PATH'] ?? '/usr/bin:/bin',
        HOME: opts.cwd,
        NODE_COMPILE_CACHE: compileCacheDir(),
        ...(process.env['NODE_V8_COVERAGE'] ? { NODE_V8_COVERAGE: process.env['NODE_V8_COVERAGE'] } : {}),
        ...opts.env,
      },
      stdio: [opts.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    if (opts.stdin !== undefined) child.stdin?.end(opts.stdin);
  });

/** A data dir with a database seeded through handleCommand; `run` calls bin/mcm with MCM_DATA_DIR. */
export type CliWorld = {
  cwd: string;
  dataDir: string;
  run(...args: string[]): Promise<CliRun>;
  state(): BrokerConfig;
  events(): EventEnvelope[];
};

export const cliWorld = (t: TestContext, seed: Command[] = []): CliWorld => {
  const cwd = tempDir(t);
  const dataDir = join(cwd, 'data');
  const db = openDatabase(join(dataDir, 'mcm.db'));
  const store = createSqliteEventStore({ db });
  for (const c of seed) handleCommand({ store, clock: { now: () => '2026-01-01T00:00:00.000Z' } }, c, { actor: { kind: 'system', id: 'seed' } });
  db.close();
  const read = <T>(fn: (s: ReturnType<typeof createSqliteEventStore>) => T): T => {
    const d = openDatabase(join(dataDir, 'mcm.db'));
    try { return fn(createSqliteEventStore({ db: d, snapshotEvery: 0 })); } finally { d.close(); }
  };
  return {
    cwd,
    dataDir,
    run: (...args) => runMcm(args, { cwd, env: { MCM_DATA_DIR: dataDir } }),
    state: () => read((s) => s.state()),
    events: () => read((s) => s.read()),
  };
};
