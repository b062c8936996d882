/**
 * Writes (issue 14): requests/s of `POST /api/v1/acls` with 50 concurrent clients, next to a bare
 * node:http server that does one fsync'd SQLite insert per request (the honest baseline, not a
 * server that writes nothing), while the apply loop keeps up. Targets: MCM ≥ 50% of the bare
 * server, and applied = desired within 1 s after each run; no non-2xx answer.
 *
 * MCM runs as deployed, in a child process (this file with `--serve mcm`): startServer (event
 * log, apply loop, a real supervised mosquitto, the observer) with the HTTP API mounted as
 * `mcm server` mounts it, signed in as an admin, with 1,000 device users; every request adds a
 * distinct rule for one of them, so every one is a real appended event (201). The bare server runs in a child of its own (`--serve bare`):
 * each POST parses the JSON body and does one INSERT of an event-sized row into a database
 * opened by adapters/sqlite/open-database.ts (WAL, synchronous=FULL: each commit is fsync'd),
 * then answers 201 with a small JSON body.
 *
 * After every MCM run, before the bare one starts, the load side polls
 * `GET /api/v1/apply-status` until applied_seq = desired_seq: that is the catch-up time.
 *
 *   node bench/run.ts writes
 *   BENCH_WRITES_S=5 BENCH_WRITES_ROUNDS=1 node bench/run.ts writes     a quicker run
 *   BENCH_WRITES_CPU_PROF=/tmp/prof node bench/run.ts writes            CPU profile of the MCM child
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { Bench, BenchResult } from './bench.ts';
import { aclRequests, compareRounds, listen, readJson, startServerChild, stopOnStdinEnd, type AutocannonResult } from './http-load.ts';

const SERVE_FLAG = '--serve';
const CONNECTIONS = 50;
const TARGET_RATIO = 0.5;
const CATCH_UP_TARGET_MS = 1000;
/** Seconds of each MCM and each bare run. */
const SECONDS = Number(process.env['BENCH_WRITES_S'] ?? 10);
const ROUNDS = Number(process.env['BENCH_WRITES_ROUNDS'] ?? 3);
const ADMIN = { username: 'bench', password: 'bench-password-0123' };
/** Rules go to a fleet of device users, as they do in the field (all on `anonymous` would make one huge block). */
const DEVICES = 1000;
const deviceName = (n: number): string => `device-${String(n % DEVICES).padStart(4, '0')}`;
const device = (n: number): string => `user:${deviceName(n)}`;

type Endpoints = { url: string; token: string };

const tempDir = (prefix: string): string => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o755); // the broker's user must traverse it when run as root (reference §4)
  return dir;
};

// ---------------------------------------------------------------- the server side (child processes)

/** MCM as `mcm server` runs it: supervised mosquitto, apply loop, observer, HTTP API. */
const serveMcm = async (): Promise<void> => {
  const { defaultConfig, findMosquitto } = await import('../adapters/config/defaults.ts');
  const { createLogger } = await import('../adapters/logging/logger.ts');
  const { startServer } = await import('../adapters/main.ts');
  const { startHttp } = await import('../adapters/http/start-http.ts');
  const { freePort } = await import('../tests/helpers/ports.ts');
  const bin = findMosquitto();
  if (!bin) throw new Error('mosquitto is not installed: run `npm run setup`');
  const dataDir = tempDir('mcm-bench-writes-');
  const config = defaultConfig({ mosquittoBinary: bin });
  config.data_dir = dataDir;
  config.log_level = 'silent';
  config.mqtt.port = await freePort();
  config.http.host = '127.0.0.1';
  config.http.port = 0;
  config.auth.bcrypt_cost = 4; // only the one sign-in below
  config.bootstrap_admin = { ...ADMIN };
  const server = await startServer({ config, logger: createLogger({ level: 'silent' }) });
  // A fleet: DEVICES users, each request a rule for one of them (bench/http-load.ts).
  const { createMosquittoHasher } = await import('../adapters/mosquitto/password-hash.ts');
  const passwordHash = await createMosquittoHasher().hash('device-password', 101);
  server.store.append(Array.from({ length: DEVICES }, (_, i) => ({
    type: 'MqttUserCreated' as const, data: { username: deviceName(i), passwordHash, description: '', disabled: false },
  })), { actor: { kind: 'system', id: 'bench' }, at: new Date().toISOString() });
  const http = await startHttp(server.deps);
  const login = await fetch(`${http.url}/api/v1/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ADMIN),
  });
  const { token } = (await login.json()) as { token: string };
  process.stdout.write(`${JSON.stringify({ url: http.url, token } satisfies Endpoints)}\n`);
  stopOnStdinEnd(async () => {
    await http.close();
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });
};

/** node:http + one INSERT per POST into an MCM-schema database (same pragmas: WAL, synchronous=FULL). */
const serveBare = async (): Promise<void> => {
  const { openDatabase } = await import('../adapters/sqlite/open-database.ts');
  const dir = tempDir('mcm-bench-writes-bare-');
  const db = openDatabase(join(dir, 'mcm.db'));
  const insert = db.prepare('INSERT INTO events (seq, stream, type, version, data, actor, at, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
  const actor = JSON.stringify({ id: ADMIN.username, kind: 'admin' });
  const link = 'f'.repeat(64);
  let seq = 0;
  const server = createServer((req, res) => {
    readJson(req).then((body) => {
      const id = ++seq;
      // Autocommit: one transaction, one fsync'd WAL commit per request.
      insert.run(id, 'acl', 'AclRuleAdded', 1, JSON.stringify({ id, ...body }), actor, new Date().toISOString(), link, link);
      res.writeHead(201, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify({ id, ...body }));
    }, () => {
      res.writeHead(400).end();
    });
  });
  const url = await listen(server);
  process.stdout.write(`${JSON.stringify({ url, token: '' } satisfies Endpoints)}\n`);
  stopOnStdinEnd(() => {
    server.closeAllConnections();
    server.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
};

// ---------------------------------------------------------------- the load side

type ApplyStatusBody = { desired_seq: number; applied_seq: number; state: string; last: { latency_ms: number | null } | null };
/** `behind_at_end`: desired − applied seq when the run ended; `last_apply_ms`: the final apply's append-to-result latency. */
export type CatchUp = { ms: number; behind_at_end: number; desired_seq: number; state: string; last_apply_ms: number | null };

/** From now until apply-status says applied = desired (or failed, or 30 s). */
const catchUp = async ({ url, token }: Endpoints): Promise<CatchUp> => {
  const started = performance.now();
  let behind: number | null = null;
  for (;;) {
    const res = await fetch(`${url}/api/v1/apply-status`, { headers: { authorization: `Bearer ${token}` } });
    const st = (await res.json()) as ApplyStatusBody;
    behind ??= st.desired_seq - st.applied_seq;
    const ms = performance.now() - started;
    if ((st.applied_seq >= st.desired_seq && st.state === 'applied') || st.state === 'failed' || ms > 30_000) {
      const last = st.last?.latency_ms;
      return { ms: Math.round(ms), behind_at_end: behind, desired_seq: st.desired_seq, state: st.state, last_apply_ms: last == null ? null : Math.round(last) };
    }
    await new Promise((r) => setTimeout(r, 10));
  }
};

const side = (r: AutocannonResult) => ({
  rps: Math.round(r.requests.average), requests: r.requests.total, p50_ms: r.latency.p50, p99_ms: r.latency.p99,
  non2xx: r.non2xx, errors: r.errors + r.timeouts,
});

const bench: Bench = {
  name: 'writes',
  description: `POST /api/v1/acls, ${CONNECTIONS} clients, MCM with apply loop + supervised mosquitto vs bare node:http + one fsync'd SQLite insert (target: ≥ ${TARGET_RATIO * 100}% of bare, applied = desired ≤ ${CATCH_UP_TARGET_MS} ms after the run)`,
  async run(log): Promise<BenchResult> {
    const file = fileURLToPath(import.meta.url);
    const profDir = process.env['BENCH_WRITES_CPU_PROF'];
    const mcm = await startServerChild<Endpoints>(file, [SERVE_FLAG, 'mcm'], profDir ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profDir}`], graceMs: 30_000 } : {});
    const bare = await startServerChild<Endpoints>(file, [SERVE_FLAG, 'bare']).catch(async (e: unknown) => { await mcm.stop(); throw e; });
    try {
      const result = await compareRounds<CatchUp>({
        label: 'POST /api/v1/acls',
        mcm: { url: mcm.endpoints.url, requests: aclRequests(mcm.endpoints.token, device) },
        bare: { url: bare.endpoints.url, requests: aclRequests('', device) },
        rounds: ROUNDS, seconds: SECONDS, connections: CONNECTIONS, log,
        afterMcm: async (round) => {
          const c = await catchUp(mcm.endpoints);
          log(`  catch-up after MCM ${round === 'warm-up' ? 'warm-up' : `round ${round}`}: ${c.ms} ms (${c.behind_at_end} seqs behind at the end, last apply ${c.last_apply_ms} ms, state ${c.state})`);
          return c;
        },
      });
      const rounds = result.rounds.map((r, i) => ({ round: i + 1, mcm: side(r.mcm), bare: side(r.bare), ratio: Number(r.ratio.toFixed(3)), catch_up: r.after }));
      const non2xx = rounds.reduce((n, r) => n + r.mcm.non2xx, 0);
      const errors = rounds.reduce((n, r) => n + r.mcm.errors, 0);
      const catchUpMs = Math.max(...rounds.map((r) => r.catch_up.state === 'applied' ? r.catch_up.ms : Infinity));
      const median = side(result.mcm);
      const medianBare = side(result.bare);
      const pass = result.ratio >= TARGET_RATIO && catchUpMs <= CATCH_UP_TARGET_MS && non2xx === 0 && errors === 0;
      const pct = (x: number): string => `${(x * 100).toFixed(0)}%`;
      return {
        table: {
          columns: ['run', 'MCM req/s', 'MCM p50 ms', 'MCM p99 ms', 'bare req/s', 'bare p99 ms', 'MCM/bare', 'non-2xx + errors', 'catch-up ms', 'result'],
          rows: [
            ...rounds.map((r) => [`round ${r.round}`, r.mcm.rps, r.mcm.p50_ms, r.mcm.p99_ms, r.bare.rps, r.bare.p99_ms, pct(r.ratio), r.mcm.non2xx + r.mcm.errors, r.catch_up.ms, '']),
            ['median-ratio round / worst catch-up', median.rps, median.p50_ms, median.p99_ms, medianBare.rps, medianBare.p99_ms, pct(result.ratio), non2xx + errors, catchUpMs, pass ? 'ok' : 'MISS'],
          ],
        },
        data: {
          at: new Date().toISOString(), node: process.version, connections: CONNECTIONS, seconds_per_run: SECONDS, rounds_count: ROUNDS,
          mcm: median, bare: medianBare, ratio: Number(result.ratio.toFixed(3)), non2xx, errors, catch_up_ms: catchUpMs,
          targets: { ratio: TARGET_RATIO, catch_up_ms: CATCH_UP_TARGET_MS, non2xx: 0 }, pass, rounds,
        },
        pass,
        notes: [
          `Each server runs in its own child process; autocannon (${CONNECTIONS} connections, ${SECONDS} s a run) runs in the parent. MCM and bare alternate over ${ROUNDS} rounds after a 1 s warm-up each; the median-ratio round is reported.`,
          'MCM: startServer + the HTTP API as `mcm server` runs them (apply loop, supervised mosquitto, observer; log level silent), an admin token, 1,000 device users; each request adds a distinct rule for one of them in turn (a 201 and an appended event). Writes that arrive together share one commit (adapters/sqlite/group-commit.ts).',
          'Bare: node:http, JSON body parsed, one autocommit INSERT of an event-sized row into a database opened by adapters/sqlite/open-database.ts (WAL, synchronous=FULL), 201 with a small JSON body.',
          `Catch-up: after each MCM run, GET /api/v1/apply-status polled every 10 ms until applied_seq = desired_seq; the worst round is held to ≤ ${CATCH_UP_TARGET_MS} ms. Rules accumulate over the rounds, so later rounds apply a larger acl_file.`,
        ],
      };
    } finally {
      await Promise.all([mcm.stop(), bare.stop()]);
    }
  },
};

export default bench;

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const mode = process.argv[process.argv.indexOf(SERVE_FLAG) + 1];
  if (process.argv.includes(SERVE_FLAG)) await (mode === 'mcm' ? serveMcm() : serveBare());
}
