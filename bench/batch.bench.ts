/**
 * `npm run bench batch` (issue 14 "Performance at 100,000 users"): one `POST /api/v1/batch` that
 * creates 100,000 MQTT users (each with its password, so 100,000 real `$7$` hashes, PBKDF2-SHA512
 * 101 iterations) and gives each one rule (`topic readwrite dev/<user>/#`): 200,000 operations,
 * one transaction. Timed from the request to the whole response, on the real HTTP app (JWT check,
 * role guard, body limit, schema validation) over a real SQLite file (WAL, synchronous=FULL), with
 * snapshots on as the server has them. Target: ≤ 10 s.
 *
 * Baseline, measured in the same run (before and after, the machine may be busy): the least any
 * batch must do — the same 100,000 hashes computed bare (Promise.all over the same hasher) and one
 * bare SQLite transaction inserting 200,000 event-sized rows into a fresh MCM database. Each side
 * runs in its own child process (this file with `--child`), so peak RSS is each one's own.
 *
 *   node bench/run.ts batch
 *   MCM_BENCH_BATCH_USERS=10000 node bench/run.ts batch     a quicker run (the target scales: 10 s per 100,000)
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Bench } from './bench.ts';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const node = join(root, 'node_modules', '.bin', 'node');
const USERS = Number(process.env['MCM_BENCH_BATCH_USERS'] ?? 100_000);
const TARGET_MS = 10_000 * (USERS / 100_000);
const ITERATIONS = 101;

const nameOf = (i: number): string => `device-${String(i).padStart(6, '0')}`;
const passwordOf = (i: number): string => `pw-${i}-0f3a9c`;

/** The batch: a user with its password, then its rule, for every user. */
const operations = (users: number): unknown[] => {
  const ops: unknown[] = [];
  for (let i = 0; i < users; i++) {
    const username = nameOf(i);
    ops.push({ op: 'create_mqtt_user', body: { username, password: passwordOf(i) } });
    ops.push({ op: 'add_acl_rule', body: { principal: `user:${username}`, topic: `dev/${username}/#`, access: 'readwrite' } });
  }
  return ops;
};

// ---------------------------------------------------------------- children

type BaselineOut = { hash_ms: number; sqlite_ms: number; ms: number };

/** Bare hashes (the same hasher), then one transaction of 2 rows per user into a fresh MCM database. */
const baselineChild = async (): Promise<void> => {
  const { createMosquittoHasher } = await import('../adapters/mosquitto/password-hash.ts');
  const { hashAll } = await import('../adapters/mosquitto/hash-all.ts');
  const { openDatabase } = await import('../adapters/sqlite/open-database.ts');
  const hasher = createMosquittoHasher();
  const dir = mkdtempSync(join(tmpdir(), 'mcm-bench-batch-base-'));
  try {
    const started = performance.now();
    // As the route hashes (adapters/mosquitto/hash-all.ts: the same hasher, in parallel).
    const hashes = await hashAll(hasher, Array.from({ length: USERS }, (_, i) => passwordOf(i)), ITERATIONS);
    const hashed = performance.now();
    const db = openDatabase(join(dir, 'mcm.db'));
    const insert = db.prepare('INSERT INTO events (seq, stream, type, version, data, actor, at, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
    const actor = JSON.stringify({ id: 'bench', kind: 'admin' });
    const at = new Date().toISOString();
    const link = 'f'.repeat(64);
    db.exec('BEGIN IMMEDIATE');
    let seq = 0;
    for (let i = 0; i < USERS; i++) {
      const username = nameOf(i);
      insert.run(++seq, `mqtt-user:${username}`, 'MqttUserCreated', 2,
        JSON.stringify({ description: '', disabled: false, passwordHash: hashes[i], username }), actor, at, link, link);
      insert.run(++seq, 'acl', 'AclRuleAdded', 1,
        JSON.stringify({ access: 'readwrite', description: '', id: i + 1, principal: `user:${username}`, topic: `dev/${username}/#` }), actor, at, link, link);
    }
    db.exec('COMMIT');
    const done = performance.now();
    db.close();
    process.stdout.write(`${JSON.stringify({ hash_ms: hashed - started, sqlite_ms: done - hashed, ms: done - started } satisfies BaselineOut)}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

type ServeOut = { url: string; token: string };
type ServeStats = { hash_window_ms: number; hashes: number; events: number };

/** The real HTTP app on a real SQLite file; prints its URL and a token, then waits for "stop" on stdin. */
const serveChild = async (): Promise<void> => {
  const { randomBytes } = await import('node:crypto');
  const { pino } = await import('pino');
  const { defaultConfig } = await import('../adapters/config/defaults.ts');
  const { createHttpApp } = await import('../adapters/http/app.ts');
  const { createAdminHasher } = await import('../adapters/http/auth/admin-hasher.ts');
  const { createMosquittoHasher } = await import('../adapters/mosquitto/password-hash.ts');
  const { createSecretStore } = await import('../adapters/secrets/secret-store.ts');
  const { createSqliteEventStore } = await import('../adapters/sqlite/event-store.ts');
  const { openDatabase } = await import('../adapters/sqlite/open-database.ts');
  const { createSecurityEventLog } = await import('../adapters/sqlite/security-events.ts');
  const { handleCommand } = await import('../core/handle-command.ts');
  const { createServer } = await import('node:http');

  const dataDir = mkdtempSync(join(tmpdir(), 'mcm-bench-batch-'));
  const config = defaultConfig({ mosquittoBinary: null });
  config.data_dir = dataDir;
  config.auth.bcrypt_cost = 4;
  const db = openDatabase(join(dataDir, 'mcm.db'));
  // Snapshots on, as adapters/main.ts builds the store: the append that crosses a multiple of
  // 1,000 writes one (synchronously, before the answer).
  const store = createSqliteEventStore({ db, snapshotKey: randomBytes(32) });
  const clock = { now: () => new Date().toISOString() };
  // The server's hasher, timed from the first hash asked for to the last one done.
  const real = createMosquittoHasher();
  let first = 0;
  let last = 0;
  let hashes = 0;
  const mqttHasher = {
    hash: async (password: string, iterations: number): Promise<string> => {
      if (first === 0) first = performance.now();
      const h = await real.hash(password, iterations);
      last = performance.now();
      hashes++;
      return h;
    },
    verify: real.verify,
  };
  const adminHasher = createAdminHasher({ cost: config.auth.bcrypt_cost });
  const deps = {
    store, clock, config, mqttHasher, adminHasher, db,
    logger: pino({ level: 'info' }, pino.destination({ dest: '/dev/null', sync: false })),
    securityLog: createSecurityEventLog({ db, clock }),
    secrets: createSecretStore(dataDir),
    serviceAccount: config.mqtt.service_account.username,
    apply: null,
  };
  const password = 'bench-password-0123';
  handleCommand(deps, { type: 'CreateAdminUser', data: { username: 'bench', passwordHash: await adminHasher.hash(password), role: 'operator' } }, { actor: { kind: 'system', id: 'bench' } });
  const server = createServer(createHttpApp(deps).callback());
  // A batch of 100,000 users takes seconds: no request or socket timeout may cut it.
  server.requestTimeout = 0;
  server.timeout = 0;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const login = await fetch(`${url}/api/v1/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'bench', password }),
  });
  const { token } = (await login.json()) as { token: string };
  process.stdout.write(`${JSON.stringify({ url, token } satisfies ServeOut)}\n`);
  for await (const line of createInterface({ input: process.stdin })) {
    if (line.trim() !== 'stop') continue;
    const stats = `${JSON.stringify({ hash_window_ms: last - first, hashes, events: store.headSeq() } satisfies ServeStats)}\n`;
    server.closeAllConnections();
    server.close();
    db.close();
    rmSync(dataDir, { recursive: true, force: true });
    // stdin (and the pino destination) would keep the process up; exit once the line is out.
    process.stdout.write(stats, () => process.exit(0));
    return;
  }
};

// ---------------------------------------------------------------- parent

type Child = { lines: AsyncIterator<string>; send(line: string): void; exit: Promise<number | null>; rssMiB(): number };

const startChild = (mode: 'baseline' | 'serve'): Child => {
  const rssDir = mkdtempSync(join(tmpdir(), 'mcm-bench-rss-'));
  const rssFile = join(rssDir, 'rss');
  const child = spawn(node, ['--import', join(here, 'peak-rss.ts'), fileURLToPath(import.meta.url), '--child', mode], {
    cwd: root, stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, MCM_BENCH_RSS_FILE: rssFile, MCM_BENCH_BATCH_USERS: String(USERS) },
  });
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    lines: createInterface({ input: child.stdout })[Symbol.asyncIterator](),
    send: (line) => { child.stdin.write(`${line}\n`); },
    exit,
    rssMiB: () => {
      let kib = NaN;
      try { kib = Number(readFileSync(rssFile, 'utf8')); } catch { /* died before exit */ }
      rmSync(rssDir, { recursive: true, force: true });
      return kib / 1024;
    },
  };
};

const nextJson = async <T>(child: Child, what: string): Promise<T> => {
  const next = await child.lines.next();
  if (next.done) throw new Error(`the ${what} child ended without answering`);
  return JSON.parse(next.value) as T;
};

const runBaseline = async (): Promise<BaselineOut & { rssMiB: number }> => {
  const child = startChild('baseline');
  const out = await nextJson<BaselineOut>(child, 'baseline');
  const code = await child.exit;
  if (code !== 0) throw new Error(`baseline child exited ${code}`);
  return { ...out, rssMiB: child.rssMiB() };
};

type BatchRun = { ms: number; status: number; events_count: number | null; error: string | null; rssMiB: number; stats: ServeStats; bodyMiB: number };

const runBatch = async (body: string): Promise<BatchRun> => {
  const child = startChild('serve');
  const { url, token } = await nextJson<ServeOut>(child, 'server');
  const started = performance.now();
  const res = await fetch(`${url}/api/v1/batch`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body,
  });
  const text = await res.text();
  const ms = performance.now() - started;
  let eventsCount: number | null = null;
  let error: string | null = null;
  try {
    const parsed = JSON.parse(text) as { events_count?: number; error?: { code: string; message: string } };
    eventsCount = parsed.events_count ?? null;
    if (parsed.error) error = `${parsed.error.code}: ${parsed.error.message}`.slice(0, 500);
  } catch { error = text.slice(0, 500); }
  child.send('stop');
  const stats = await nextJson<ServeStats>(child, 'server');
  await child.exit;
  return { ms, status: res.status, events_count: eventsCount, error, rssMiB: child.rssMiB(), stats, bodyMiB: Buffer.byteLength(body) / 2 ** 20 };
};

const s = (ms: number): string => (ms / 1000).toFixed(2);

const bench: Bench = {
  name: 'batch',
  description: `POST /api/v1/batch: ${USERS.toLocaleString('en')} users ($7$ hashed) with one rule each, one transaction (real HTTP app, SQLite file)`,
  async run(log) {
    const body = JSON.stringify({ operations: operations(USERS) });
    log('baseline (before): bare hashes + one bare SQLite transaction');
    const before = await runBaseline();
    log(`POST /api/v1/batch with ${(2 * USERS).toLocaleString('en')} operations`);
    const batch = await runBatch(body);
    if (batch.error) log(`batch: ${batch.status} ${batch.error}`);
    log('baseline (after)');
    const after = await runBaseline();

    const baselineMs = (before.ms + after.ms) / 2;
    const correct = batch.status === 200 && batch.events_count === 2 * USERS;
    const met = correct && batch.ms <= TARGET_MS;
    const baseRow = (label: string, b: BaselineOut & { rssMiB: number }): (string | number)[] =>
      [label, s(b.ms), `hashes ${s(b.hash_ms)} + SQLite ${s(b.sqlite_ms)}`, '—', b.rssMiB.toFixed(0)];
    return {
      table: {
        columns: ['step', 'wall s', 'of which', '× baseline', 'peak RSS MiB'],
        rows: [
          baseRow('baseline before: bare $7$ hashes + one SQLite transaction', before),
          [`POST /api/v1/batch (${batch.bodyMiB.toFixed(1)} MiB, ${batch.status}, ${batch.events_count ?? '?'} events)`, s(batch.ms),
            `hashing window ${s(batch.stats.hash_window_ms)}`, (batch.ms / baselineMs).toFixed(2), batch.rssMiB.toFixed(0)],
          baseRow('baseline after', after),
        ],
      },
      data: {
        users: USERS, operations: 2 * USERS, iterations: ITERATIONS, target_ms: TARGET_MS, body_mib: Number(batch.bodyMiB.toFixed(1)),
        batch: { ms: Math.round(batch.ms), status: batch.status, events_count: batch.events_count, error: batch.error,
          hash_window_ms: Math.round(batch.stats.hash_window_ms), hashes: batch.stats.hashes, peak_rss_mib: Math.round(batch.rssMiB) },
        baseline: [before, after].map((b) => ({ ms: Math.round(b.ms), hash_ms: Math.round(b.hash_ms), sqlite_ms: Math.round(b.sqlite_ms), peak_rss_mib: Math.round(b.rssMiB) })),
        ratio: Number((batch.ms / baselineMs).toFixed(2)),
        at: new Date().toISOString(), node: process.version,
      },
      pass: met,
      notes: [
        `${USERS.toLocaleString('en')} users, each with its password (${USERS.toLocaleString('en')} $7$ hashes, ${ITERATIONS} iterations) and one rule: ${(2 * USERS).toLocaleString('en')} operations, one request, one transaction.`,
        'Timed from sending the request to reading the whole response; the server runs in its own process (apply loop off: the broker files are rendered after the answer).',
        `Baseline = mean of the two bare runs (${s(before.ms)} s, ${s(after.ms)} s): the same hashes with the same hasher, and one transaction of ${(2 * USERS).toLocaleString('en')} rows.`,
        correct
          ? `Target ≤ ${s(TARGET_MS)} s: ${met ? 'met' : 'MISSED'} (${s(batch.ms)} s).`
          : `The batch did not append ${(2 * USERS).toLocaleString('en')} events: ${batch.status} ${batch.error ?? ''}`,
      ],
    };
  },
};

export default bench;

const argv = process.argv.slice(2);
if (argv[0] === '--child') {
  if (argv[1] === 'baseline') await baselineChild();
  else if (argv[1] === 'serve') await serveChild();
  else throw new Error(`unknown child ${argv[1]}`);
}
