/**
 * Faults (issue 8): the supervised mosquitto SIGKILLed 20 times (6 in CI) under a running
 * `mcm server`. After each kill:
 *
 *   1. a write sent at once, while the broker is down, is acknowledged (the log does not need the
 *      broker);
 *   2. the supervisor starts a new broker (a new pid in its pid file);
 *   3. the observer reconnects (`GET /status` broker.up);
 *   4. the apply loop applies the write made while the broker was down (apply-status applied,
 *      state applied), and the broker enforces it: the new user logs in, a wrong password is
 *      refused;
 *   5. a write made after the recovery is applied and enforced too.
 *
 * Recovery times are measured from the kill. The supervisor restarts with a doubling backoff
 * (250 ms … 10 s, reset after 30 s up), so successive kills recover more slowly by design; the
 * bound on each recovery is that backoff plus RECOVERY_SLACK_MS.
 *
 *   node bench/reliability/kill-broker.ts [ci|full]
 */
import { findMosquitto } from '../../adapters/config/defaults.ts';
import { createCleanups } from './cleanups.ts';
import { checkLog, checkRenderedFiles, runEventsVerify, waitApplied, type AckedWrite } from './fault-checks.ts';
import { canLogin, createAdminClient, errorCodeOf, type AdminClient } from './fault-clients.ts';
import { brokerPid, brokersOf, createFaultWorld, percentile, sleep, spawnServer, waitUntil, type FaultWorld } from './fault-server.ts';
import { exactRow, figures, type FigureRow, type ReliabilityFigures, type ReliabilityOptions, runStandalone } from './figures.ts';

const SCALES = { full: { kills: 20 }, ci: { kills: 6 } } as const;
/** The supervisor's restart backoff (adapters/mosquitto/supervisor.ts defaults). */
const BACKOFF = { initialMs: 250, maxMs: 10_000 };
/** Allowed on top of the restart delay: broker start, observer reconnect, apply and probes. */
const RECOVERY_SLACK_MS = 5_000;

type KillRecord = {
  kill: number;
  oldPid: number;
  newPid: number | null;
  /** ms from the kill: new broker pid, observer connected, the downtime write applied, its user logs in. */
  brokerMs: number | null;
  observerMs: number | null;
  appliedMs: number | null;
  loginMs: number | null;
  /** The write after the recovery: applied and enforced (ms from sending it). */
  afterMs: number | null;
  boundMs: number;
  problems: string[];
};

const processAlive = (pid: number): boolean => {
  try { process.kill(pid, 0); return true; } catch { return false; }
};

/** Creates `username` and records the acknowledged write; the problem text when it is not acknowledged. */
const createUser = async (api: AdminClient, acked: AckedWrite[], username: string, password: string): Promise<{ seq: number } | string> => {
  try {
    const r = await api.call('POST', '/mqtt-users', { username, password });
    if (r.status !== 201 || r.seq === null) return `create ${username}: ${r.status} ${errorCodeOf(r)}`;
    acked.push({ seq: r.seq, type: 'MqttUserCreated', key: { username } });
    return { seq: r.seq };
  } catch (e) {
    return `create ${username}: ${(e as Error).message}`;
  }
};

const observerUp = async (api: AdminClient): Promise<true | undefined> => {
  try {
    const r = await api.call('GET', '/status', undefined, { timeoutMs: 5000 });
    return r.status === 200 && r.body?.broker?.up === true ? true : undefined;
  } catch {
    return undefined;
  }
};

const killOnce = async (world: FaultWorld, api: AdminClient, acked: AckedWrite[], k: number, failuresSoFar: number): Promise<KillRecord> => {
  const boundMs = Math.min(BACKOFF.maxMs, BACKOFF.initialMs * 2 ** failuresSoFar) + RECOVERY_SLACK_MS;
  const oldPid = brokerPid(world);
  const rec: KillRecord = { kill: k, oldPid: oldPid ?? -1, newPid: null, brokerMs: null, observerMs: null, appliedMs: null, loginMs: null, afterMs: null, boundMs, problems: [] };
  if (oldPid === null || !processAlive(oldPid)) {
    rec.problems.push('no live broker pid in the pid file before the kill');
    return rec;
  }
  const t0 = performance.now();
  const since = (): number => Math.round(performance.now() - t0);
  process.kill(oldPid, 'SIGKILL');

  const down = { username: `down-${k}`, password: `down-${k}-Pa55word-long` };
  const downWrite = await createUser(api, acked, down.username, down.password);
  if (typeof downWrite === 'string') rec.problems.push(`write while the broker is down not acknowledged: ${downWrite}`);

  const limit = boundMs + 10_000; // waits end here; the bound is checked on the figures
  const step = async <T>(what: string, check: () => Promise<T | undefined> | T | undefined): Promise<number | null> => {
    try {
      await waitUntil(what, check, Math.max(1, limit - since()));
      return since();
    } catch (e) {
      rec.problems.push((e as Error).message);
      return null;
    }
  };
  // The steps are watched side by side, each timed from the kill.
  const [brokerMs, observerMs, appliedMs, loginMs] = await Promise.all([
    step('a new broker pid', () => {
      const pid = brokerPid(world);
      if (pid !== null && pid !== oldPid && processAlive(pid)) { rec.newPid = pid; return true; }
      return undefined;
    }),
    step('the observer to reconnect (GET /status broker.up)', () => observerUp(api)),
    typeof downWrite === 'string' ? null : (async () => {
      const applied = await waitApplied(api, downWrite.seq, Math.max(1, limit - since()));
      if (applied.ok) return since();
      rec.problems.push(`the write made while the broker was down (seq ${downWrite.seq}) was not applied: ${JSON.stringify(applied.status)}`);
      return null;
    })(),
    typeof downWrite === 'string' ? null : step(`${down.username} to log in`, async () => ((await canLogin(world.mqttPort, down.username, down.password)) ? true : undefined)),
  ]);
  Object.assign(rec, { brokerMs, observerMs, appliedMs, loginMs });
  if (loginMs !== null && await canLogin(world.mqttPort, down.username, 'wrong-password')) rec.problems.push(`${down.username} logged in with a wrong password`);

  // A write after the recovery goes the whole way too.
  const after = { username: `after-${k}`, password: `after-${k}-Pa55word-long` };
  const a0 = performance.now();
  const afterWrite = await createUser(api, acked, after.username, after.password);
  if (typeof afterWrite === 'string') {
    rec.problems.push(`write after the recovery not acknowledged: ${afterWrite}`);
  } else {
    const applied = await waitApplied(api, afterWrite.seq, 10_000);
    if (!applied.ok) rec.problems.push(`the write after the recovery (seq ${afterWrite.seq}) was not applied: ${JSON.stringify(applied.status)}`);
    else if (!(await canLogin(world.mqttPort, after.username, after.password))) rec.problems.push(`${after.username} cannot log in after its write was applied`);
    else rec.afterMs = Math.round(performance.now() - a0);
  }
  return rec;
};

export const killBroker = async ({ scale, log }: ReliabilityOptions): Promise<ReliabilityFigures> => {
  if (findMosquitto() === null) throw new Error('mosquitto is not installed: run `npm run setup` (apt-get install mosquitto)');
  const { kills } = SCALES[scale];
  const cleanups = createCleanups();
  const t0 = performance.now();
  try {
    const world = await createFaultWorld(cleanups, { prefix: 'mcm-kill-broker-' });
    const server = spawnServer(world, cleanups);
    await server.ready();
    const api = createAdminClient(world);
    const acked: AckedWrite[] = [];
    const records: KillRecord[] = [];
    let failures = 0;
    let lastRecovery = performance.now();
    for (let k = 1; k <= kills; k++) {
      // The supervisor forgets earlier failures once the broker stayed up 30 s (its stableMs).
      if (performance.now() - lastRecovery > 30_000) failures = 0;
      const rec = await killOnce(world, api, acked, k, failures);
      failures++;
      lastRecovery = performance.now();
      records.push(rec);
      log(`kill ${k}/${kills}: broker ${rec.oldPid} → ${rec.newPid} in ${rec.brokerMs} ms, observer ${rec.observerMs} ms, applied ${rec.appliedMs} ms, login ${rec.loginMs} ms${rec.problems.length ? `; PROBLEMS: ${rec.problems.join('; ')}` : ''}`);
    }
    const serverAlive = server.alive();
    const status = await api.call('GET', '/apply-status').catch(() => null);
    const verifyCli = await runEventsVerify(world);
    const stopExit = await server.stop();
    await sleep(200);
    const brokersAfterStop = brokersOf(world);
    const logCheck = checkLog(world, acked);
    const files = await checkRenderedFiles(world, logCheck.state);

    const ms = (pick: (r: KillRecord) => number | null): number[] => records.map(pick).filter((x): x is number => x !== null);
    const pct = (xs: number[]): string => `${percentile(xs, 0.5) ?? '-'} / ${percentile(xs, 1) ?? '-'}`;
    const overBound = records.filter((r) => r.loginMs === null || r.loginMs > r.boundMs);
    const withProblems = records.filter((r) => r.problems.length > 0);
    const rows: FigureRow[] = [
      exactRow('SIGKILLs of the supervised mosquitto', records.length, kills),
      exactRow('kills with a problem (not restarted, not reconnected, write not applied or not enforced)', withProblems.length, 0),
      exactRow('brokers restarted by the supervisor', ms((r) => r.brokerMs).length, kills),
      exactRow('observer reconnections', ms((r) => r.observerMs).length, kills),
      exactRow('writes made while the broker was down, applied and enforced', ms((r) => r.loginMs).length, kills),
      exactRow('writes made after each recovery, applied and enforced', ms((r) => r.afterMs).length, kills),
      { figure: 'kill → new broker pid p50 / max (ms)', value: pct(ms((r) => r.brokerMs)), ok: true },
      { figure: 'kill → observer connected p50 / max (ms)', value: pct(ms((r) => r.observerMs)), ok: true },
      { figure: 'kill → downtime write applied p50 / max (ms)', value: pct(ms((r) => r.appliedMs)), ok: true },
      { figure: 'kill → downtime user logs in p50 / max (ms)', value: pct(ms((r) => r.loginMs)), target: `each <= restart backoff + ${RECOVERY_SLACK_MS}`, ok: overBound.length === 0 },
      { figure: 'write after recovery → enforced p50 / max (ms)', value: pct(ms((r) => r.afterMs)), ok: true },
      { figure: 'mcm server still running after the kills', value: serverAlive ? 'yes' : 'no', target: 'yes', ok: serverAlive },
      { figure: 'apply-status at the end', value: status?.status === 200 ? `${status.body.state}, applied ${status.body.applied_seq} / desired ${status.body.desired_seq}` : 'no answer', target: 'applied == desired', ok: status?.status === 200 && status.body.state === 'applied' && status.body.applied_seq >= status.body.desired_seq },
      exactRow('acknowledged writes missing from the log', logCheck.lost.length, 0),
      { figure: '`mcm events verify` exit code', value: verifyCli.code ?? 'signal', target: '0', ok: verifyCli.code === 0 },
      { figure: 'password_file, acl_file == render of the final state', value: `${files.password_file ? 'equal' : 'DIFFERENT'}, ${files.acl_file ? 'equal' : 'DIFFERENT'}`, target: 'equal, equal', ok: files.password_file && files.acl_file },
      { figure: 'clean stop (SIGTERM) at the end', value: `code ${stopExit.code}`, target: 'code 0', ok: stopExit.code === 0 },
      exactRow('brokers left running after the stop', brokersAfterStop.length, 0),
    ];
    return figures('kill-broker', rows, {
      kills: records, acked: acked.length, chain: logCheck.chain, events_verify_output: verifyCli.output.slice(0, 500),
      apply_status: status?.body ?? null, duration_s: Math.round((performance.now() - t0) / 100) / 10,
      server_output_tail: serverAlive ? undefined : server.output().slice(-3000),
    });
  } finally {
    await cleanups.run();
  }
};

if (import.meta.main) await runStandalone(killBroker);
