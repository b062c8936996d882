/**
 * HTTP throughput (Issue 4): requests/s of `GET /api/v1/mqtt-users` with 1,000 users and of
 * `POST /api/v1/acls`, measured with autocannon next to a bare node:http server that returns the
 * same JSON, in the same run. Target: the GET reaches at least 50% of the bare server.
 *
 * The servers run in a child process (this file with `--serve`) so autocannon and the server
 * don't share an event loop. MCM is measured as deployed: JWT check, role guard, access log
 * (pino at info, to /dev/null), security headers, and for POST body validation, the decide/append
 * path and an fsync'd SQLite commit (synchronous=FULL).
 *
 *   node bench/http.bench.ts                  run and print (also: node bench/run.ts http)
 *   BENCH_DURATION_S=10 node bench/http.bench.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import type { Bench, BenchResult } from './bench.ts';
import { aclRequests, compareRounds, listen, readJson, startServerChild, stopOnStdinEnd, type AutocannonResult, type Comparison, type Load } from './http-load.ts';

const USERS = 1000;
const TARGET_RATIO = 0.5;
const SERVE_FLAG = '--serve';
const ROUNDS = 3;

type Endpoints = { mcm: string; bare: string; token: string };

// ---------------------------------------------------------------- the server side (child process)

const serve = async (): Promise<void> => {
  // Imported here so importing this module (bench/run.ts) stays cheap.
  const { defaultConfig } = await import('../adapters/config/defaults.ts');
  const { createHttpApp } = await import('../adapters/http/app.ts');
  const { createAdminHasher } = await import('../adapters/http/auth/admin-hasher.ts');
  const { createMosquittoHasher } = await import('../adapters/mosquitto/password-hash.ts');
  const { createSecretStore } = await import('../adapters/secrets/secret-store.ts');
  const { createSqliteEventStore } = await import('../adapters/sqlite/event-store.ts');
  const { openDatabase } = await import('../adapters/sqlite/open-database.ts');
  const { createSecurityEventLog } = await import('../adapters/sqlite/security-events.ts');
  const { handleCommand } = await import('../core/handle-command.ts');

  const dataDir = mkdtempSync(join(tmpdir(), 'mcm-bench-http-'));
  const config = defaultConfig({ mosquittoBinary: null });
  config.data_dir = dataDir;
  config.auth.bcrypt_cost = 4;
  config.auth.jwt_ttl_s = 3600;
  const db = openDatabase(join(dataDir, 'mcm.db'));
  const store = createSqliteEventStore({ db });
  const clock = { now: () => new Date().toISOString() };
  const mqttHasher = createMosquittoHasher();
  const adminHasher = createAdminHasher({ cost: config.auth.bcrypt_cost });
  const deps = {
    store, clock, config, mqttHasher, adminHasher, db,
    logger: pino({ level: 'info' }, pino.destination({ dest: '/dev/null', sync: false })),
    securityLog: createSecurityEventLog({ db, clock }),
    secrets: createSecretStore(dataDir),
    serviceAccount: config.mqtt.service_account.username,
    apply: null,
  };
  const actor = { kind: 'system', id: 'bench' } as const;
  const password = 'bench-password-0123';
  handleCommand(deps, { type: 'CreateAdminUser', data: { username: 'bench', passwordHash: await adminHasher.hash(password), role: 'operator' } }, { actor });
  const hash = await mqttHasher.hash('device-password', 101);
  for (let i = 0; i < USERS; i++) {
    handleCommand(deps, { type: 'CreateMqttUser', data: { username: `device-${String(i).padStart(4, '0')}`, passwordHash: hash, description: `sensor ${i}` } }, { actor });
  }

  const mcm = createServer(createHttpApp(deps).callback());
  const mcmUrl = await listen(mcm);

  const login = await fetch(`${mcmUrl}/api/v1/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'bench', password }),
  });
  const { token } = (await login.json()) as { token: string };
  // The bare server answers with exactly what MCM answers, serialised per request as MCM does.
  const page = await (await fetch(`${mcmUrl}/api/v1/mqtt-users`, { headers: { authorization: `Bearer ${token}` } })).json();
  let nextId = 1;
  const bare = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(page));
      return;
    }
    void readJson(req).then((body) => {
      const now = new Date().toISOString();
      res.writeHead(201, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify({ id: nextId++, description: '', ...body, created_at: now, updated_at: now }));
    });
  });
  const bareUrl = await listen(bare);

  process.stdout.write(`${JSON.stringify({ mcm: mcmUrl, bare: bareUrl, token } satisfies Endpoints)}\n`);
  stopOnStdinEnd(() => {
    mcm.closeAllConnections();
    bare.closeAllConnections();
    mcm.close();
    bare.close();
    db.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
};

// ---------------------------------------------------------------- the load side

export type HttpBenchRow = {
  case: string;
  mcm_rps: number;
  bare_rps: number;
  ratio: number;
  mcm_p99_ms: number;
  bare_p99_ms: number;
  errors: number;
  target: string;
  pass: boolean;
};

export type HttpBenchOptions = { durationS?: number; connections?: number; log?: (line: string) => void };

/** Runs both cases against MCM and the bare server; resolves with one row per case. */
export const run = async (opts: HttpBenchOptions = {}): Promise<HttpBenchRow[]> => {
  /** Seconds per side and case, split over the rounds. */
  const duration = opts.durationS ?? Number(process.env.BENCH_DURATION_S ?? 6);
  const connections = opts.connections ?? 10;
  const log = opts.log ?? (() => {});
  const server = await startServerChild<Endpoints>(fileURLToPath(import.meta.url), [SERVE_FLAG]);
  const { endpoints } = server;
  try {
    const auth = { authorization: `Bearer ${endpoints.token}` };
    const compare = (label: string, mcm: Load, bare: Load): Promise<Comparison<undefined>> =>
      compareRounds({ label, mcm, bare, rounds: ROUNDS, seconds: duration / ROUNDS, connections, log });
    const row = (name: string, m: { mcm: AutocannonResult; bare: AutocannonResult; ratio: number; errors: number }, target: number | null): HttpBenchRow => ({
      case: name,
      mcm_rps: Math.round(m.mcm.requests.average),
      bare_rps: Math.round(m.bare.requests.average),
      ratio: Math.round(m.ratio * 1000) / 1000,
      mcm_p99_ms: m.mcm.latency.p99,
      bare_p99_ms: m.bare.latency.p99,
      errors: m.errors,
      target: target === null ? '—' : `≥ ${Math.round(target * 100)}% of bare`,
      pass: m.errors === 0 && (target === null || m.ratio >= target),
    });

    const get = await compare('GET /api/v1/mqtt-users', { url: `${endpoints.mcm}/api/v1/mqtt-users`, headers: auth }, { url: `${endpoints.bare}/api/v1/mqtt-users` });
    const post = await compare('POST /api/v1/acls', { url: endpoints.mcm, requests: aclRequests(endpoints.token) }, { url: endpoints.bare, requests: aclRequests(endpoints.token) });
    return [
      row(`GET /api/v1/mqtt-users (${USERS} users, page of 100)`, get, TARGET_RATIO),
      row('POST /api/v1/acls (fsync per append)', post, null),
    ];
  } finally {
    await server.stop();
  }
};

const bench: Bench = {
  name: 'http',
  description: `MCM REST requests/s vs a bare node:http server returning the same JSON (target: GET ≥ ${TARGET_RATIO * 100}% of bare)`,
  async run(log): Promise<BenchResult> {
    const rows = await run({ log });
    return {
      table: {
        columns: ['case', 'MCM req/s', 'bare req/s', 'MCM/bare', 'MCM p99 ms', 'bare p99 ms', 'errors', 'target', 'result'],
        rows: rows.map((r) => [r.case, r.mcm_rps, r.bare_rps, `${(r.ratio * 100).toFixed(0)}%`, r.mcm_p99_ms, r.bare_p99_ms, r.errors, r.target, r.pass ? 'ok' : 'MISS']),
      },
      data: { rows, users: USERS, at: new Date().toISOString(), node: process.version },
      pass: rows.every((r) => r.pass),
      notes: [
        `Both servers run in one child process; autocannon runs in the parent. MCM and bare alternate over ${ROUNDS} rounds and the median-ratio round is shown.`,
        'POST /acls has no target: every append is an fsync\'d SQLite transaction (synchronous=FULL), which a bare server does not do.',
      ],
    };
  },
};

export default bench;

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv.includes(SERVE_FLAG)) {
    await serve();
  } else {
    const result = await bench.run((l) => process.stderr.write(`${l}\n`));
    // Not run.ts's formatter: importing run.ts runs every bench.
    for (const r of [result.table.columns, ...result.table.rows]) process.stdout.write(`${r.join(' | ')}\n`);
    for (const n of result.notes ?? []) process.stdout.write(`note: ${n}\n`);
    process.exitCode = result.pass ? 0 : 1;
  }
}
