/**
 * Faults (issue 8): the database locked by another process while `mcm server` runs, 10 times
 * (3 in CI), alternating two kinds of lock a stray process (a script, `sqlite3` left at a
 * prompt) can take on `<data dir>/mcm.db`:
 *
 *   - an idle write transaction (`BEGIN EXCLUSIVE`, committed on release);
 *   - an uncommitted write (`BEGIN IMMEDIATE` and an UPDATE of chain_head, rolled back on
 *     release: nothing of it may show).
 *
 * In WAL mode readers go on under both. (Nor can a process take `locking_mode = EXCLUSIVE`
 * while the server has the database open, so readers can't be locked out that way.)
 *
 * While the lock is held: every write is refused with 503 MCM_ERR_STORAGE_BUSY and Retry-After
 * after the server's busy_timeout (adapters/sqlite/open-database.ts), never a 500; reads served
 * from memory go on (and reads of the file are 200 or the same 503); the server keeps running.
 * Once the lock goes, a write is acknowledged, applied and enforced. At the end the hash chain
 * verifies and every acknowledged write is in the log.
 *
 *   node bench/reliability/db-locked.ts [ci|full]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { findMosquitto } from '../../adapters/config/defaults.ts';
import { SERVER_BUSY_TIMEOUT_MS } from '../../adapters/sqlite/open-database.ts';
import { createCleanups, type Cleanups } from './cleanups.ts';
import { checkLog, checkRenderedFiles, runEventsVerify, waitApplied, type AckedWrite } from './fault-checks.ts';
import { canLogin, createAdminClient, errorCodeOf, rawCall, type AdminClient, type ApiResponse } from './fault-clients.ts';
import { brokersOf, createFaultWorld, percentile, sleep, spawnServer, type FaultWorld } from './fault-server.ts';
import { exactRow, figures, type FigureRow, type ReliabilityFigures, type ReliabilityOptions, runStandalone, tally } from './figures.ts';

const SCALES = { full: { rounds: 10 }, ci: { rounds: 3 } } as const;
const WRITES_PER_LOCK = 3;
const BUSY_CODE = 'MCM_ERR_STORAGE_BUSY';
/**
 * A refused write, or a read queued behind one, takes about busy_timeout. The bound catches a
 * regression (a long busy_timeout freezing the server), not the noise of a shared CI machine,
 * where a request now and then stalls for seconds whatever it does.
 */
const WAIT_BOUND_MS = SERVER_BUSY_TIMEOUT_MS + 4000;

export type LockKind = 'write-transaction' | 'uncommitted-write';

/** A process holding a lock on `dbPath` until `release()` (or until this process dies: its stdin closes). */
export const holdLock = async (dbPath: string, kind: LockKind, cleanups: Cleanups): Promise<{ release(): Promise<void> }> => {
  const [take, release] = kind === 'uncommitted-write'
    ? [`db.exec('BEGIN IMMEDIATE'); db.exec("UPDATE chain_head SET hash = 'not-a-hash'");`, `db.exec('ROLLBACK');`]
    : [`db.exec('BEGIN EXCLUSIVE');`, `db.exec('COMMIT');`];
  const script = `
    import { DatabaseSync } from 'node:sqlite';
    const db = new DatabaseSync(${JSON.stringify(dbPath)});
    db.exec('PRAGMA busy_timeout = 10000');
    ${take}
    process.stdout.write('LOCKED\\n');
    process.stdin.resume();
    process.stdin.on('end', () => { ${release} db.close(); process.exit(0); });
  `;
  const child: ChildProcess = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['pipe', 'pipe', 'pipe'] });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  cleanups.add(async () => { if (child.exitCode === null && child.signalCode === null) { child.kill('SIGKILL'); await exited; } });
  let err = '';
  child.stderr?.on('data', (b: Buffer) => { err += b.toString(); });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (b: Buffer) => { out += b.toString(); if (out.includes('LOCKED')) resolve(); });
    child.once('exit', (code) => reject(new Error(`the lock holder exited (code ${code}) before locking: ${err}`)));
  });
  return {
    async release() {
      child.stdin?.end();
      await exited;
    },
  };
};

type Round = {
  round: number;
  kind: LockKind;
  refused: { status: number; code: string; retryAfter: string | null; ms: number }[];
  /** Reads sent while a write waited for the lock. */
  concurrentReads: { status: number; ms: number }[];
  login: string;
  reads: Record<string, string>;
  serverAlive: boolean;
  afterRelease: { acked: boolean; appliedMs: number | null; enforced: boolean; detail?: string };
};

const describe = (r: ApiResponse): string => `${r.status}${r.status >= 400 ? ` ${errorCodeOf(r)}` : ''}`;

const lockRound = async (world: FaultWorld, api: AdminClient, acked: AckedWrite[], round: number, kind: LockKind, cleanups: Cleanups, serverAlive: () => boolean): Promise<Round> => {
  const lock = await holdLock(join(world.dataDir, 'mcm.db'), kind, cleanups);
  const rec: Round = { round, kind, refused: [], concurrentReads: [], login: '', reads: {}, serverAlive: true, afterRelease: { acked: false, appliedMs: null, enforced: false } };
  try {
    for (let i = 0; i < WRITES_PER_LOCK; i++) {
      const username = `locked-${round}-${i}`;
      const write = api.call('POST', '/mqtt-users', { username, password: `${username}-Pa55word-long` });
      // A read sent while the write waits for the lock: DatabaseSync waits synchronously, so the
      // read waits too (bounded by busy_timeout).
      await sleep(50);
      const read = await api.call('GET', '/mqtt-users');
      const r = await write;
      if (r.status === 201 && r.seq !== null) acked.push({ seq: r.seq, type: 'MqttUserCreated', key: { username } });
      rec.refused.push({ status: r.status, code: errorCodeOf(r), retryAfter: r.headers.get('retry-after'), ms: Math.round(r.ms) });
      rec.concurrentReads.push({ status: read.status, ms: Math.round(read.ms) });
    }
    rec.login = describe(await rawCall(world, 'POST', '/auth/login', null, world.admin));
    for (const path of ['/mqtt-users', '/apply-status', '/status', '/events?limit=5', '/events/verify']) {
      rec.reads[path] = describe(await api.call('GET', path));
    }
    rec.reads['/readyz'] = describe(await rawCall(world, 'GET', '//readyz', null));
    rec.serverAlive = serverAlive();
  } finally {
    await lock.release();
  }
  // The lock is gone: the next write goes through, is applied and enforced.
  const username = `unlocked-${round}`;
  const password = `${username}-Pa55word-long`;
  const w = await api.call('POST', '/mqtt-users', { username, password });
  if (w.status !== 201 || w.seq === null) {
    rec.afterRelease.detail = `write after the release: ${describe(w)}`;
    return rec;
  }
  acked.push({ seq: w.seq, type: 'MqttUserCreated', key: { username } });
  rec.afterRelease.acked = true;
  const applied = await waitApplied(api, w.seq, 15_000);
  if (!applied.ok) {
    rec.afterRelease.detail = `not applied: ${JSON.stringify(applied.status)}`;
    return rec;
  }
  rec.afterRelease.appliedMs = Math.round(applied.ms);
  rec.afterRelease.enforced = await canLogin(world.mqttPort, username, password);
  return rec;
};

export const dbLocked = async ({ scale, log }: ReliabilityOptions): Promise<ReliabilityFigures> => {
  if (findMosquitto() === null) throw new Error('mosquitto is not installed: run `npm run setup` (apt-get install mosquitto)');
  const { rounds } = SCALES[scale];
  const cleanups = createCleanups();
  const t0 = performance.now();
  try {
    const world = await createFaultWorld(cleanups, { prefix: 'mcm-db-locked-' });
    const server = spawnServer(world, cleanups);
    await server.ready();
    const api = createAdminClient(world);
    const acked: AckedWrite[] = [];
    // Baseline: the same write with nobody else on the database.
    const baseline: number[] = [];
    for (let i = 0; i < 5; i++) {
      const username = `baseline-${i}`;
      const r = await api.call('POST', '/mqtt-users', { username, password: `${username}-Pa55word-long` });
      if (r.status === 201 && r.seq !== null) acked.push({ seq: r.seq, type: 'MqttUserCreated', key: { username } });
      baseline.push(r.ms);
    }
    const results: Round[] = [];
    for (let round = 1; round <= rounds; round++) {
      const kind: LockKind = round % 2 === 1 ? 'write-transaction' : 'uncommitted-write';
      const rec = await lockRound(world, api, acked, round, kind, cleanups, () => server.alive());
      results.push(rec);
      log(`round ${round}/${rounds} (${kind}): writes ${rec.refused.map((x) => `${x.status} ${x.code} in ${x.ms} ms (Retry-After ${x.retryAfter})`).join(', ')}; login ${rec.login}; reads ${JSON.stringify(rec.reads)}; after release: ${JSON.stringify(rec.afterRelease)}`);
    }
    const serverAlive = server.alive();
    const verifyCli = await runEventsVerify(world);
    const stopExit = await server.stop();
    await sleep(200);
    const brokersAfterStop = brokersOf(world);
    const logCheck = checkLog(world, acked);
    const files = await checkRenderedFiles(world, logCheck.state);

    const refused = results.flatMap((r) => r.refused);
    const busy = refused.filter((x) => x.status === 503 && x.code === BUSY_CODE);
    const fiveHundreds = [
      ...refused.filter((x) => x.status === 500),
      ...results.flatMap((r) => [r.login, ...Object.values(r.reads)]).filter((s) => s.startsWith('500')),
    ];
    const memoryReads = results.flatMap((r) => ['/mqtt-users', '/apply-status', '/status'].map((p) => r.reads[p] ?? ''));
    const fileReads = results.flatMap((r) => ['/events?limit=5', '/events/verify'].map((p) => r.reads[p] ?? ''));
    const busyMs = busy.map((x) => x.ms);
    const concurrent = results.flatMap((r) => r.concurrentReads);
    const rows: FigureRow[] = [
      exactRow('lock rounds (idle write transaction / uncommitted write, alternating)', results.length, rounds),
      exactRow('writes while locked refused with 503 MCM_ERR_STORAGE_BUSY', busy.length, refused.length),
      exactRow('of them with a Retry-After header', busy.filter((x) => x.retryAfter !== null).length, busy.length),
      exactRow('500 answers while locked (writes, sign-in, reads)', fiveHundreds.length, 0),
      { figure: 'refused write latency p50 / max (ms)', value: `${percentile(busyMs, 0.5)} / ${percentile(busyMs, 1)}`, baseline: `${percentile(baseline, 0.5)} (write, no lock)`, target: `≈ busy_timeout ${SERVER_BUSY_TIMEOUT_MS}, max < ${WAIT_BOUND_MS}`, ok: (percentile(busyMs, 1) ?? Infinity) < WAIT_BOUND_MS },
      exactRow('reads from memory answered 200 while locked', memoryReads.filter((s) => s === '200').length, memoryReads.length),
      { figure: 'read sent while a write waits for the lock: answered 200, p50 / max (ms)', value: `${concurrent.filter((x) => x.status === 200).length} of ${concurrent.length}, ${percentile(concurrent.map((x) => x.ms), 0.5)} / ${percentile(concurrent.map((x) => x.ms), 1)}`, target: `all 200, max < ${WAIT_BOUND_MS}`, ok: concurrent.every((x) => x.status === 200) && (percentile(concurrent.map((x) => x.ms), 1) ?? 0) < WAIT_BOUND_MS },
      { figure: 'reads of the database file while locked (200 or 503 MCM_ERR_STORAGE_BUSY)', value: tally(fileReads), ok: fileReads.every((s) => s === '200' || s === `503 ${BUSY_CODE}`) },
      { figure: 'sign-in while locked', value: tally(results.map((r) => r.login)), target: `200 or 503 ${BUSY_CODE}`, ok: results.every((r) => r.login === '200' || r.login === `503 ${BUSY_CODE}`) },
      exactRow('rounds where the server stopped running', results.filter((r) => !r.serverAlive).length + (serverAlive ? 0 : 1), 0),
      exactRow('writes after the lock went: acknowledged, applied and enforced', results.filter((r) => r.afterRelease.enforced).length, rounds),
      exactRow('acknowledged writes missing from the log', logCheck.lost.length, 0),
      { figure: 'hash chain (in-process verify)', value: logCheck.chain.ok ? 'ok' : logCheck.chain.detail, target: 'ok', ok: logCheck.chain.ok },
      { figure: '`mcm events verify` exit code', value: verifyCli.code ?? 'signal', target: '0', ok: verifyCli.code === 0 },
      { figure: 'password_file, acl_file == render of the final state', value: `${files.password_file ? 'equal' : 'DIFFERENT'}, ${files.acl_file ? 'equal' : 'DIFFERENT'}`, target: 'equal, equal', ok: files.password_file && files.acl_file },
      { figure: 'clean stop (SIGTERM) at the end', value: `code ${stopExit.code}`, target: 'code 0', ok: stopExit.code === 0 },
      exactRow('brokers left running after the stop', brokersAfterStop.length, 0),
    ];
    return figures('db-locked', rows, {
      busy_timeout_ms: SERVER_BUSY_TIMEOUT_MS, rounds: results, baseline_write_ms: baseline.map((x) => Math.round(x)),
      chain: logCheck.chain, events_verify_output: verifyCli.output.slice(0, 500), duration_s: Math.round((performance.now() - t0) / 100) / 10,
      server_output_tail: server.output().slice(-3000),
    });
  } finally {
    await cleanups.run();
  }
};


if (import.meta.main) await runStandalone(dbLocked, (r) => r.pass ? [] : [String(r.data['server_output_tail'])]);
