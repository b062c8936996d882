/**
 * `npm run bench startup` (issue 14 "Start-up and memory"): a cold start on a log of 1,000,000
 * events (100,000 users with one rule each, the rest day-to-day changes; bench/startup-data.ts),
 * each run in a fresh process:
 *
 * - the store: openDatabase + createSqliteEventStore → state ready (newest snapshot, HMAC
 *   checked, then the tail of 999 events folded);
 * - `mcm server` (external broker mode, reload strategy none): spawn → first `/healthz` 200;
 *   then, idle after its first apply and a settle period, its RSS (target ≤ 300 MB);
 * - the bare baseline in the same run: node:sqlite, the newest snapshot row, JSON.parse, fold
 *   the tail with core/evolve.ts.
 *
 * Targets: store ready and server serving ≤ 3 s, and ≤ 1.5 × the bare start. Medians of
 * MCM_BENCH_STARTUP_RUNS (default 3). A supervised start is tried once and reported: mosquitto
 * must load the 100,000-user acl_file before it listens.
 *
 *   node bench/run.ts startup
 *   MCM_BENCH_STARTUP_EVENTS=200000 MCM_BENCH_STARTUP_USERS=20000 node bench/run.ts startup   (quicker)
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findMosquitto } from '../adapters/config/defaults.ts';
import type { Bench, BenchTable } from './bench.ts';
import type { ChildOut } from './startup-child.ts';
import { buildServer } from '../scripts/build-server.ts';
import { generateDataDir, TAIL } from './startup-data.ts';
import { node, runServer, type ServerRun } from './startup-server.ts';

const here = dirname(fileURLToPath(import.meta.url));
const EVENTS = Number(process.env['MCM_BENCH_STARTUP_EVENTS'] ?? 1_000_000);
const USERS = Number(process.env['MCM_BENCH_STARTUP_USERS'] ?? 100_000);
const RUNS = Math.max(1, Number(process.env['MCM_BENCH_STARTUP_RUNS'] ?? 3));
const SETTLE_MS = 10_000;
const TARGET_MS = 3000;
const TARGET_RATIO = 1.5;
const TARGET_RSS_MIB = 300 * 1e6 / 2 ** 20; // 300 MB

type Timed = ChildOut & { wall_ms: number };

/** One child of bench/startup-child.ts; `wall_ms` from spawn to its answer (Node's own start included). */
const runChild = (mode: 'store' | 'bare', dir: string): Promise<Timed> => new Promise((resolve, reject) => {
  const started = performance.now();
  const child = spawn(node, [join(here, 'startup-child.ts'), mode, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  child.once('error', reject);
  child.once('exit', (code) => {
    if (code !== 0) reject(new Error(`${mode} child exited ${code}`));
    else resolve({ ...(JSON.parse(out) as ChildOut), wall_ms: performance.now() - started });
  });
});

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] ?? NaN : ((s[mid - 1] ?? NaN) + (s[mid] ?? NaN)) / 2;
};
const ms = (x: number | null): string => (x === null || Number.isNaN(x) ? '—' : `${Math.round(x)}`);
const mib = (x: number | null): string => (x === null ? '—' : x.toFixed(0));
const ratio = (a: number, b: number): string => (a / b).toFixed(2);

const bench: Bench = {
  name: 'startup',
  description: `cold start on ${EVENTS.toLocaleString('en')} events (${USERS.toLocaleString('en')} users, one rule each) and idle RSS`,
  async run(log) {
    // What `npm run setup` leaves: bin/mcm runs the bundle (scripts/build-server.ts).
    log('bundling the mcm command (dist/server)');
    await buildServer();
    log(`generating ${EVENTS.toLocaleString('en')} events through the store (snapshots on)`);
    const gen = await generateDataDir(EVENTS, USERS, log);
    log(`  ${(gen.ms / 1000).toFixed(1)} s; newest snapshot at seq ${gen.snapshotSeq}, head ${gen.events}`);
    try {
      const store: Timed[] = [];
      const bare: Timed[] = [];
      for (let i = 0; i < RUNS; i++) {
        log(`store / bare, run ${i + 1} of ${RUNS}`);
        store.push(await runChild('store', gen.dir));
        bare.push(await runChild('bare', gen.dir));
      }
      // The first start renders and writes both files; the restarts after it are the cold starts.
      log('mcm server, first start (writes the broker files), then idle for the memory figures');
      const first = await runServer({ dataDir: gen.dir, mode: 'external', settleMs: SETTLE_MS, timeoutMs: 120_000 });
      const restarts: ServerRun[] = [];
      for (let i = 0; i < RUNS; i++) {
        log(`mcm server restart ${i + 1} of ${RUNS}`);
        restarts.push(await runServer({ dataDir: gen.dir, mode: 'external', settleMs: 0, timeoutMs: 120_000 }));
      }
      const fromSources: ServerRun[] = [];
      for (let i = 0; i < RUNS; i++) {
        log(`mcm server restart from the sources (MCM_NO_BUNDLE=1) ${i + 1} of ${RUNS}`);
        fromSources.push(await runServer({ dataDir: gen.dir, mode: 'external', settleMs: 0, timeoutMs: 120_000, env: { MCM_NO_BUNDLE: '1' } }));
      }
      let supervised: ServerRun | null = null;
      if (findMosquitto() !== null && process.env['MCM_BENCH_STARTUP_SUPERVISED'] !== '0') {
        log('mcm server, supervised mosquitto (once)');
        supervised = await runServer({ dataDir: gen.dir, mode: 'supervised', settleMs: 0, timeoutMs: 30_000 });
      }

      const storeMs = median(store.map((r) => r.open_ms));
      const bareMs = median(bare.map((r) => r.open_ms));
      const storeWall = median(store.map((r) => r.wall_ms));
      const bareWall = median(bare.map((r) => r.wall_ms));
      const served = restarts.map((r) => r.healthz_ms).filter((x): x is number => x !== null);
      const serverMs = served.length === restarts.length ? median(served) : NaN;
      const readyMs = median(restarts.map((r) => r.readyz_ms ?? NaN));
      const sourcesMs = median(fromSources.map((r) => r.healthz_ms ?? NaN));
      const storeMet = storeMs <= TARGET_MS && storeMs / bareMs <= TARGET_RATIO;
      const serverInTime = serverMs <= TARGET_MS;
      const serverInRatio = serverMs / bareWall <= TARGET_RATIO;
      const serverMet = serverInTime && serverInRatio;
      const rssMet = first.rss_mib !== null && first.rss_mib <= TARGET_RSS_MIB;
      const table: BenchTable = {
        columns: ['step (median of runs)', 'ms', 'bare baseline ms', '× bare', 'RSS MiB', 'target'],
        rows: [
          ['bare: newest snapshot + JSON.parse + fold tail (open → state)', ms(bareMs), '—', '—', mib(median(bare.map((r) => r.rss_mib))), '—'],
          ['bare, whole process (spawn → state)', ms(bareWall), '—', '—', '—', '—'],
          ['store: openDatabase + createSqliteEventStore (open → state)', ms(storeMs), ms(bareMs), ratio(storeMs, bareMs), mib(median(store.map((r) => r.rss_mib))),
            `≤ ${TARGET_MS} ms, ≤ ${TARGET_RATIO}×: ${storeMet ? 'met' : 'MISSED'}`],
          ['store, whole process (spawn → state)', ms(storeWall), ms(bareWall), ratio(storeWall, bareWall), '—', '—'],
          ['mcm server (external, reload none): spawn → /healthz 200', ms(serverMs), ms(bareWall), ratio(serverMs, bareWall), '—',
            `≤ ${TARGET_MS} ms: ${serverInTime ? 'met' : 'MISSED'}; ≤ ${TARGET_RATIO}×: ${serverInRatio ? 'met' : 'MISSED'}`],
          ['… spawn → /readyz 200', ms(readyMs), ms(bareWall), ratio(readyMs, bareWall), '—', '—'],
          ['… the same from the sources, not the bundle (MCM_NO_BUNDLE=1): → /healthz 200', ms(sourcesMs), ms(bareWall), ratio(sourcesMs, bareWall), '—', '—'],
          ['… first start (renders + writes both files): → /healthz 200', ms(first.healthz_ms), '—', '—', '—', '—'],
          [`… idle ${SETTLE_MS / 1000} s after the first start: VmRSS (VmHWM; V8 heap used / total)`, '—', '—', '—',
            `${mib(first.rss_mib)} (${mib(first.hwm_mib)}; ${mib(first.heap_used_mib)} / ${mib(first.heap_total_mib)})`, `≤ 300 MB: ${rssMet ? 'met' : 'MISSED'}`],
          ...(supervised ? [['mcm server (supervised mosquitto): spawn → /healthz 200', supervised.healthz_ms === null ? 'failed' : ms(supervised.healthz_ms), '—', '—', '—', '—']] : []),
        ],
      };
      return {
        table,
        data: {
          events: gen.events, users: USERS, snapshot_seq: gen.snapshotSeq, tail: gen.events - gen.snapshotSeq, generate_ms: Math.round(gen.ms),
          targets: { ms: TARGET_MS, ratio: TARGET_RATIO, rss_mb: 300 },
          medians: { store_ms: storeMs, bare_ms: bareMs, store_wall_ms: storeWall, bare_wall_ms: bareWall, server_healthz_ms: serverMs, server_readyz_ms: readyMs, server_sources_healthz_ms: sourcesMs },
          store, bare, first_start: first, restarts, from_sources: fromSources, supervised,
          at: new Date().toISOString(), node: process.version,
        },
        pass: storeMet && serverMet && rssMet,
        notes: [
          `${gen.events.toLocaleString('en')} events appended through the store in batches (${(gen.ms / 1000).toFixed(1)} s); newest snapshot at seq ${gen.snapshotSeq}, so every start folds a tail of ${gen.events - gen.snapshotSeq} events (at most ${TAIL} with the server's snapshot every 1,000).`,
          'The server is timed from spawning `bin/mcm server` (the shim, then module loading included) and compared with the bare child timed the same way. bin/mcm runs the bundle `npm run setup` builds (dist/server/mcm.mjs, scripts/build-server.ts); the row from the sources runs adapters/cli/main.ts.',
          'External mode with reload strategy none: the start does everything but reload a broker. RSS from /proc/<pid>/status; the heap from GET /metrics.',
          ...(supervised ? [supervised.healthz_ms === null
            ? `Supervised: the server did not start: ${supervised.failure ?? ''} (mosquitto 2.0 loads a 100,000-user acl_file in about a minute; the supervisor waits 10 s).`
            : `Supervised: /healthz after ${ms(supervised.healthz_ms)} ms; /readyz ${supervised.readyz_ms === null ? 'not within the 30 s this run waits (mosquitto loads a 100,000-user acl_file for about half a minute)' : `after ${ms(supervised.readyz_ms)} ms`}.`] : []),
        ],
      };
    } finally {
      rmSync(gen.dir, { recursive: true, force: true });
    }
  },
};

export default bench;
