/**
 * Faults (issue 8): the data dir's disk full while `mcm server` runs. The data dir is a small
 * tmpfs mounted for the scenario (root only; unmounted in cleanup, always). 5 rounds (2 in CI):
 *
 *   1. A write, then at once the disk fills: a filler file grows until ENOSPC (the write's apply
 *      may be caught by it: its files or its checkpoint refused).
 *   2. Writes: each is either acknowledged (SQLite may still reuse space its WAL already holds)
 *      or refused with 507 MCM_ERR_STORAGE_FULL and a message saying so, never a 500; writing
 *      goes on until the first refusal. Sign-in and `POST /apply-status/retry` answer 200 or the
 *      same 507. Reads (users, events, chain verify, apply-status, /readyz) answer 200 and the
 *      server keeps running.
 *   3. Space returns: the filler is deleted (odd rounds) or the tmpfs is remounted bigger with
 *      `mount -o remount,size=…` (even rounds). Without any new write, the apply loop brings
 *      the broker to the desired state; then a new write is acknowledged, applied, enforced.
 *
 * At the end every acknowledged write is in the log, the chain verifies (in-process and with
 * `mcm events verify`), the broker files equal the render of the final state.
 *
 *   node bench/reliability/full-disk.ts [ci|full]
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findMosquitto } from '../../adapters/config/defaults.ts';
import { createCleanups } from './cleanups.ts';
import { checkLog, checkRenderedFiles, runEventsVerify, waitApplied, type AckedWrite } from './fault-checks.ts';
import { canLogin, createAdminClient, errorCodeOf, rawCall, type AdminClient, type ApiResponse } from './fault-clients.ts';
import { brokersOf, createFaultWorld, sleep, spawnServer, type FaultWorld } from './fault-server.ts';
import { exactRow, figures, type FigureRow, type ReliabilityFigures, type ReliabilityOptions, runStandalone, tally } from './figures.ts';

const SCALES = { full: { rounds: 5 }, ci: { rounds: 2 } } as const;
const BEFORE_USERS = 6;
const MIB = 1024 * 1024;
const INITIAL_SIZE_MIB = 24;
const GROW_MIB = 8;
/** Writes tried on the full disk before giving up on seeing a refusal. */
const MAX_WRITES_WHEN_FULL = 400;
const FULL_CODE = 'MCM_ERR_STORAGE_FULL';

const run = (cmd: string, args: string[]): void => { execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] }); };

export const mountTmpfs = (dir: string, sizeMiB: number): void => run('mount', ['-t', 'tmpfs', '-o', `size=${sizeMiB}m,mode=0755`, 'tmpfs', dir]);
export const remountTmpfs = (dir: string, sizeMiB: number): void => run('mount', ['-o', `remount,size=${sizeMiB}m`, dir]);
/** Unmounts; lazily when something still holds it open (never leaves a mount behind). */
export const unmount = (dir: string): void => {
  try { run('umount', [dir]); } catch { run('umount', ['-l', dir]); }
};

/** Null when this process may mount a tmpfs (root, or CAP_SYS_ADMIN); else why not. */
export const tmpfsUnavailable = (): string | null => {
  const dir = mkdtempSync(join(tmpdir(), 'mcm-mount-check-'));
  try {
    mountTmpfs(dir, 1);
    unmount(dir);
    return null;
  } catch (e) {
    const stderr = (e as { stderr?: Buffer }).stderr?.toString().trim();
    return `cannot mount a tmpfs (${stderr || (e as Error).message}): the full-disk scenario needs root`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

/** Grows `path` until the disk refuses (ENOSPC), in big then small chunks; returns the bytes written. */
const fillDisk = (path: string): number => {
  const fd = openSync(path, 'a');
  let total = 0;
  try {
    for (const size of [1024 * 1024, 64 * 1024, 4096, 512]) {
      const chunk = Buffer.alloc(size, 0x5a);
      for (;;) {
        try { total += writeSync(fd, chunk); } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw e;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  return total;
};

type Round = {
  round: number;
  filledBytes: number;
  accepted: number;
  refused: { status: number; code: string; message: string }[];
  login: string;
  retry: string;
  applyStatusOnFull?: unknown;
  reads: Record<string, string>;
  serverAlive: boolean;
  recovery: 'deleted the filler' | 'remounted bigger';
  /** Applied == desired after space returned, before any new write (ms), or the status it stayed in. */
  settled: { ok: boolean; ms: number; status: unknown };
  after: { acked: boolean; applied: boolean; enforced: boolean; detail?: string };
};

const short = (r: ApiResponse): string => `${r.status}${r.status >= 400 ? ` ${errorCodeOf(r)}` : ''}`;

const fullRound = async (world: FaultWorld, api: AdminClient, acked: AckedWrite[], round: number, size: { mib: number }, serverAlive: () => boolean): Promise<Round> => {
  // A write just before the disk fills: its apply (files, checkpoint) may be caught by it.
  const pre = `pre-full-${round}`;
  const p = await api.call('POST', '/mqtt-users', { username: pre, password: `${pre}-Pa55word-long` });
  if (p.status === 201 && p.seq !== null) acked.push({ seq: p.seq, type: 'MqttUserCreated', key: { username: pre } });
  const filler = join(world.dataDir, `filler-${round}`);
  const filledBytes = fillDisk(filler);
  const rec: Round = {
    round, filledBytes, accepted: 0, refused: [], login: '', retry: '', reads: {}, serverAlive: true,
    recovery: round % 2 === 1 ? 'deleted the filler' : 'remounted bigger', settled: { ok: false, ms: 0, status: null },
    after: { acked: false, applied: false, enforced: false },
  };
  try {
    // A small change first (disabling a user appends one short event, which may fit in space
    // SQLite already holds, while the shorter password_file still needs new blocks), then new
    // users until the first refusal, then two more: all refused the same way.
    const small = `before-${round}`;
    const d = await api.call('PUT', `/mqtt-users/${small}`, { disabled: true });
    if (d.status === 200 && d.seq !== null) {
      acked.push({ seq: d.seq, type: 'MqttUserDisabled', key: { username: small } });
      rec.accepted++;
    } else {
      rec.refused.push({ status: d.status, code: errorCodeOf(d), message: String(d.body?.error?.message ?? '').slice(0, 300) });
    }
    let extra = 2;
    for (let i = 0; i < MAX_WRITES_WHEN_FULL && extra >= 0; i++) {
      const username = `full-${round}-${i}`;
      const r = await api.call('POST', '/mqtt-users', { username, password: `${username}-Pa55word-long` });
      if (r.status === 201 && r.seq !== null) {
        acked.push({ seq: r.seq, type: 'MqttUserCreated', key: { username } });
        rec.accepted++;
      } else {
        rec.refused.push({ status: r.status, code: errorCodeOf(r), message: String(r.body?.error?.message ?? '').slice(0, 300) });
        extra--;
      }
    }

    rec.login = short(await rawCall(world, 'POST', '/auth/login', null, world.admin));
    rec.retry = short(await api.call('POST', '/apply-status/retry'));
    rec.applyStatusOnFull = (await api.call('GET', '/apply-status')).body;
    for (const path of ['/mqtt-users', '/events?limit=5', '/events/verify', '/apply-status']) rec.reads[path] = short(await api.call('GET', path));
    rec.reads['/readyz'] = short(await rawCall(world, 'GET', '//readyz', null));
    rec.serverAlive = serverAlive();
  } finally {
    if (rec.recovery === 'deleted the filler') unlinkSync(filler);
    else { size.mib += GROW_MIB; remountTmpfs(world.dataDir, size.mib); }
  }
  // Space is back: what was acknowledged on the full disk reaches the broker without a new write.
  const settled = await waitApplied(api, 0, 15_000);
  rec.settled = { ok: settled.ok, ms: Math.round(settled.ms), status: settled.status };
  const username = `after-full-${round}`;
  const password = `${username}-Pa55word-long`;
  const w = await api.call('POST', '/mqtt-users', { username, password });
  if (w.status !== 201 || w.seq === null) {
    rec.after.detail = `write after space returned: ${short(w)}`;
    return rec;
  }
  acked.push({ seq: w.seq, type: 'MqttUserCreated', key: { username } });
  rec.after.acked = true;
  const applied = await waitApplied(api, w.seq, 15_000);
  rec.after.applied = applied.ok;
  if (!applied.ok) rec.after.detail = `not applied: ${JSON.stringify(applied.status)}`;
  else rec.after.enforced = await canLogin(world.mqttPort, username, password);
  return rec;
};

export const fullDisk = async ({ scale, log }: ReliabilityOptions): Promise<ReliabilityFigures> => {
  if (findMosquitto() === null) throw new Error('mosquitto is not installed: run `npm run setup` (apt-get install mosquitto)');
  const why = tmpfsUnavailable();
  if (why) throw new Error(why);
  const { rounds } = SCALES[scale];
  const cleanups = createCleanups();
  const t0 = performance.now();
  const size = { mib: INITIAL_SIZE_MIB };
  try {
    const world = await createFaultWorld(cleanups, {
      prefix: 'mcm-full-disk-',
      prepareDataDir: (dir) => {
        mountTmpfs(dir, size.mib);
        // Runs after the server and its broker are stopped (cleanups run newest first).
        cleanups.add(() => unmount(dir));
      },
    });
    const server = spawnServer(world, cleanups);
    await server.ready();
    const api = createAdminClient(world);
    const acked: AckedWrite[] = [];
    for (let i = 1; i <= BEFORE_USERS; i++) {
      const username = `before-${i}`;
      const r = await api.call('POST', '/mqtt-users', { username, password: `${username}-Pa55word-long` });
      if (r.status === 201 && r.seq !== null) acked.push({ seq: r.seq, type: 'MqttUserCreated', key: { username } });
    }
    const results: Round[] = [];
    for (let round = 1; round <= rounds; round++) {
      const rec = await fullRound(world, api, acked, round, size, () => server.alive());
      results.push(rec);
      log(`round ${round}/${rounds}: filled ${Math.round(rec.filledBytes / MIB)} MiB; ${rec.accepted} writes accepted, refused: ${rec.refused.map((x) => `${x.status} ${x.code}`).join(', ')}; login ${rec.login}; retry ${rec.retry}; reads ${JSON.stringify(rec.reads)}; ${rec.recovery}; settled ${JSON.stringify(rec.settled)}; after ${JSON.stringify(rec.after)}`);
      if (!server.alive()) break;
    }
    const serverAlive = server.alive();
    const verifyCli = serverAlive ? await runEventsVerify(world) : { code: null, output: 'server not running' };
    const stopExit = await server.stop();
    await sleep(200);
    const brokersAfterStop = brokersOf(world);
    const logCheck = checkLog(world, acked);
    const files = await checkRenderedFiles(world, logCheck.state);

    const refused = results.flatMap((r) => r.refused);
    const full = refused.filter((x) => x.status === 507 && x.code === FULL_CODE);
    const answers = results.flatMap((r) => [r.login, r.retry, ...Object.values(r.reads)]);
    const okOrFull = (s: string): boolean => s === '200' || s === `507 ${FULL_CODE}`;
    const rows: FigureRow[] = [
      exactRow('full-disk rounds', results.length, rounds),
      exactRow('rounds with writes refused', results.filter((r) => r.refused.length > 0).length, rounds),
      exactRow('refused writes answered 507 MCM_ERR_STORAGE_FULL', full.length, refused.length),
      exactRow('of them with a message naming the full disk', full.filter((x) => /disk .*full/.test(x.message)).length, full.length),
      { figure: 'writes acknowledged on the full disk (space SQLite already held)', value: results.reduce((n, r) => n + r.accepted, 0), ok: true },
      { figure: 'rounds where the full disk caught an apply (not applied while full)', value: results.filter((r) => (r.applyStatusOnFull as { state?: string } | undefined)?.state !== 'applied').length, ok: true },
      exactRow('500 answers on the full disk (writes, sign-in, retry, reads)', refused.filter((x) => x.status >= 500 && x.status !== 507).length + answers.filter((s) => s.startsWith('5') && !s.startsWith('507')).length, 0),
      { figure: 'sign-in and apply retry on the full disk', value: tally(results.flatMap((r) => [r.login, r.retry])), target: `200 or 507 ${FULL_CODE}`, ok: results.every((r) => okOrFull(r.login) && okOrFull(r.retry)) },
      exactRow('reads answered 200 on the full disk', results.flatMap((r) => Object.values(r.reads)).filter((s) => s === '200').length, results.length * 5),
      { figure: 'mcm server running through every round', value: serverAlive && results.every((r) => r.serverAlive) ? 'yes' : 'no', target: 'yes', ok: serverAlive && results.every((r) => r.serverAlive) },
      exactRow('rounds where the broker caught up once space returned, with no new write', results.filter((r) => r.settled.ok).length, rounds),
      exactRow('writes after space returned: acknowledged, applied and enforced', results.filter((r) => r.after.enforced).length, rounds),
      exactRow('acknowledged writes missing from the log', logCheck.lost.length, 0),
      { figure: 'hash chain (in-process verify)', value: logCheck.chain.ok ? 'ok' : logCheck.chain.detail, target: 'ok', ok: logCheck.chain.ok },
      { figure: '`mcm events verify` exit code', value: verifyCli.code ?? 'none', target: '0', ok: verifyCli.code === 0 },
      { figure: 'password_file, acl_file == render of the final state', value: `${files.password_file ? 'equal' : 'DIFFERENT'}, ${files.acl_file ? 'equal' : 'DIFFERENT'}`, target: 'equal, equal', ok: files.password_file && files.acl_file },
      { figure: 'clean stop (SIGTERM) at the end', value: `code ${stopExit.code}`, target: 'code 0', ok: stopExit.code === 0 },
      exactRow('brokers left running after the stop', brokersAfterStop.length, 0),
    ];
    return figures('full-disk', rows, {
      rounds: results, tmpfs_mib: { initial: INITIAL_SIZE_MIB, final: size.mib }, chain: logCheck.chain,
      events_verify_output: verifyCli.output.slice(0, 500), duration_s: Math.round((performance.now() - t0) / 100) / 10,
      server_output_tail: server.output().slice(-3000),
    });
  } finally {
    await cleanups.run();
  }
};


if (import.meta.main) await runStandalone(fullDisk, (r) => r.pass ? [] : [String(r.data['server_output_tail'])]);
