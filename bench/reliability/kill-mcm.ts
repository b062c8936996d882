/**
 * Faults (issue 8): `mcm server` SIGKILLed at random moments under write load, 20 times (6 in
 * CI), and started again on the same data dir each time, as a service manager would.
 *
 *   1. Start `bin/mcm server` (supervised mosquitto) in its own process; 4 HTTP writers create,
 *      grant, disable and delete MQTT users, recording every acknowledged write (2xx + ETag).
 *   2. Kill: after a random 0.3–1.5 s of writes (every 5th kill instead lands a random 30–500 ms
 *      into the start-up: database open, broker start, first apply). Then start it again. After
 *      each restart exactly one broker of this data dir runs: the one the new server supervises
 *      (the killed server's broker, orphaned, must have been stopped).
 *   3. At the end: apply-status applied == desired; `mcm events verify` passes; real MQTT logins
 *      and publishes match the last acknowledged write of each user; a clean stop leaves no
 *      broker behind; every acknowledged write is in the log; the hash chain verifies; the
 *      broker files are byte for byte the render of the final state; no server raised a
 *      "changed outside MCM" drift event (the files were only ever written by MCM); no temp
 *      file of an interrupted write is left.
 *
 *   node bench/reliability/kill-mcm.ts [ci|full]
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { findMosquitto } from '../../adapters/config/defaults.ts';
import { createCleanups } from './cleanups.ts';
import { checkLog, checkRenderedFiles, runEventsVerify, waitApplied } from './fault-checks.ts';
import { createAdminClient } from './fault-clients.ts';
import { brokersOf, createFaultWorld, percentile, sleep, spawnServer, type ServerProcess } from './fault-server.ts';
import { checkUsersEnforced, seededRandom, startWriters } from './fault-writers.ts';
import { atLeastRow, exactRow, figures, type FigureRow, type ReliabilityFigures, type ReliabilityOptions, runStandalone } from './figures.ts';

const SCALES = { full: { kills: 20 }, ci: { kills: 6 } } as const;
const WRITERS = 4;
/** Every STARTUP_EVERY-th kill lands during the start-up instead of under load. */
const STARTUP_EVERY = 5;
/** A restart (spawn → /readyz 200) slower than this is a finding; it includes stopping the orphan. */
const RESTART_BOUND_MS = 15_000;

/** Temp files an interrupted atomic write or lock update left in the data dir. */
const leftoverTempFiles = (dataDir: string): string[] => {
  const out: string[] = [];
  for (const dir of [dataDir, join(dataDir, 'mosquitto')]) {
    let names: string[] = [];
    try { names = readdirSync(dir); } catch { /* missing */ }
    out.push(...names.filter((n) => n.endsWith('.tmp')).map((n) => join(dir, n)));
  }
  return out;
};

export const killMcm = async ({ scale, log }: ReliabilityOptions): Promise<ReliabilityFigures> => {
  if (findMosquitto() === null) throw new Error('mosquitto is not installed: run `npm run setup` (apt-get install mosquitto)');
  const { kills } = SCALES[scale];
  const seed = Number(process.env['MCM_RELIABILITY_SEED'] ?? Date.now() % 2 ** 31);
  const random = seededRandom(seed);
  const between = (lo: number, hi: number): number => Math.round(lo + random() * (hi - lo));
  const cleanups = createCleanups();
  const t0 = performance.now();
  try {
    const world = await createFaultWorld(cleanups, { prefix: 'mcm-kill-mcm-' });
    log(`kill-mcm: ${kills} kills, seed ${seed}, data dir ${world.dataDir}`);
    const restartMs: number[] = [];
    const staleBrokers: { kill: number; pids: number[] }[] = [];
    const orphansAtKill: number[] = [];
    const killLog: { kill: number; when: 'load' | 'startup'; afterMs: number; ackedSoFar: number }[] = [];

    const outputs: string[] = [];
    const spawnOne = (): ServerProcess => {
      const s = spawnServer(world, cleanups);
      void s.exited.then(() => outputs.push(s.output()));
      return s;
    };
    const start = async (): Promise<ServerProcess> => {
      const s = spawnOne();
      await s.ready();
      restartMs.push(performance.now() - s.startedAt);
      return s;
    };

    let server: ServerProcess | null = await start();
    const writers = startWriters(world, { count: WRITERS, prefix: 'k', random });
    for (let k = 1; k <= kills; k++) {
      const duringStartup = k % STARTUP_EVERY === 3 % STARTUP_EVERY;
      let afterMs: number;
      if (duringStartup) {
        // A fresh server killed part-way through its start-up.
        if (server) { server.kill('SIGKILL'); await server.exited; server = null; }
        const s = spawnOne();
        afterMs = between(30, 500);
        await sleep(afterMs);
        s.kill('SIGKILL');
        await s.exited;
      } else {
        server ??= await start();
        afterMs = between(300, 1500);
        await sleep(afterMs);
        server.kill('SIGKILL');
        await server.exited;
        server = null;
      }
      orphansAtKill.push(brokersOf(world).length);
      killLog.push({ kill: k, when: duringStartup ? 'startup' : 'load', afterMs, ackedSoFar: writers.stats.acked.length });
      log(`kill ${k}/${kills} (${duringStartup ? 'start-up' : 'load'}, +${afterMs} ms): ${writers.stats.acked.length} writes acknowledged so far`);
      server = await start();
      // The killed server's broker must be gone: the only one left is the new server's.
      const live = brokersOf(world);
      if (live.length !== 1) staleBrokers.push({ kill: k, pids: live });
    }
    await sleep(1000); // the writers go on against the last server
    await writers.stop();
    const { acked, users, unanswered, unexpected } = writers.stats;
    log(`writers stopped: ${acked.length} acknowledged writes, ${unanswered} unanswered, ${unexpected.length} unexpected answers`);

    const api = createAdminClient(world);
    const applied = await waitApplied(api, 0, 20_000);
    const verifyCli = await runEventsVerify(world);
    const enforced = await checkUsersEnforced(world.mqttPort, users);
    const stopExit = await (server as ServerProcess).stop();
    await sleep(200);
    const brokersAfterStop = brokersOf(world);
    const logCheck = checkLog(world, acked);
    const files = await checkRenderedFiles(world, logCheck.state);
    const temps = leftoverTempFiles(world.dataDir);
    await sleep(50);
    // Security events the servers raised about the broker files (each server's log, warn and up).
    const driftLines = outputs.flatMap((o) => o.split('\n')).filter((l) => l.includes('"category":"files.drift"') || l.includes('"category":"files.adoption_required"'));

    const outcomes = users.reduce<Record<string, number>>((m, u) => { m[u.outcome] = (m[u.outcome] ?? 0) + 1; return m; }, {});
    const rows: FigureRow[] = [
      exactRow('SIGKILLs of mcm server', killLog.length, kills),
      { figure: 'of them during start-up', value: killLog.filter((x) => x.when === 'startup').length, ok: true },
      atLeastRow('acknowledged writes', acked.length, kills * 5),
      exactRow('acknowledged writes missing from the log', logCheck.lost.length, 0),
      { figure: 'hash chain (in-process verify)', value: logCheck.chain.ok ? 'ok' : logCheck.chain.detail, target: 'ok', ok: logCheck.chain.ok },
      { figure: '`mcm events verify` exit code', value: verifyCli.code ?? 'signal', target: '0', ok: verifyCli.code === 0 },
      { figure: 'apply-status after the last restart', value: applied.status ? `${applied.status.state}, applied ${applied.status.applied_seq} / desired ${applied.status.desired_seq}` : 'no answer', target: 'applied == desired', ok: applied.ok },
      { figure: 'password_file, acl_file == render of the final state', value: `${files.password_file ? 'equal' : 'DIFFERENT'}, ${files.acl_file ? 'equal' : 'DIFFERENT'}`, target: 'equal, equal', ok: files.password_file && files.acl_file },
      exactRow(`MQTT users enforced differently than acknowledged (of ${enforced.checked} checked)`, enforced.failures.length, 0),
      exactRow('unexpected HTTP answers (non-2xx)', unexpected.length, 0),
      exactRow('restarts with a stale broker still running', staleBrokers.length, 0),
      { figure: 'clean stop (SIGTERM) at the end', value: `code ${stopExit.code}`, target: 'code 0', ok: stopExit.code === 0 },
      exactRow('brokers left running after the stop', brokersAfterStop.length, 0),
      { figure: 'restart to ready p50 / max (ms)', value: `${percentile(restartMs, 0.5)} / ${percentile(restartMs, 1)}`, target: `max < ${RESTART_BOUND_MS}`, ok: (percentile(restartMs, 1) ?? 0) < RESTART_BOUND_MS },
      exactRow('temp files left in the data dir by interrupted writes', temps.length, 0),
      exactRow('"changed outside MCM" (files.drift) or "not written by MCM" (files.adoption_required) reports: the files were only ever written by MCM', driftLines.length, 0),
    ];
    return figures('kill-mcm', rows, {
      seed, kills: killLog, unanswered, unexpected: unexpected.slice(0, 20), users: outcomes,
      lost: logCheck.lost.slice(0, 20), events: logCheck.events, chain: logCheck.chain, apply_status: applied.status,
      events_verify_output: verifyCli.output.slice(0, 500), enforcement_failures: enforced.failures.slice(0, 20),
      stale_brokers: staleBrokers, orphans_right_after_kill: orphansAtKill, restart_ms: restartMs.map((x) => Math.round(x)),
      leftover_temp_files: temps, drift_reports: driftLines.slice(0, 10), duration_s: Math.round((performance.now() - t0) / 100) / 10,
    });
  } finally {
    await cleanups.run();
  }
};

if (import.meta.main) await runStandalone(killMcm, (r) => [JSON.stringify(r.data, null, 1).slice(0, 3000)]);
