/**
 * The steps of one apply and of the enforcement check, run by apply-loop.ts one at a time
 * (DESIGN §6). Nothing here schedules; everything here assumes it is the only thing touching the
 * broker's files right now.
 */
import { performance } from 'node:perf_hooks';
import type { ProbeResult } from '../mosquitto/probe.ts';
import { readTextOrNull, removeStaleTempFiles } from '../files/write-rendered-file.ts';
import { emptyBrokerConfig, type BrokerConfigModel } from '../../core/broker-config/model.ts';
import type { QuarantineRow } from '../sqlite/apply-results.ts';
import { quarantineMessage, type ApplyOutcome, type ForeignFile } from './apply-status.ts';
import { aclGeneration, passwordMarker, sameContent, sha256, type FileName, type FileSpec } from './broker-files.ts';
import type { ApplyLoopDeps } from './apply-loop.ts';
import { createBrokerIo, truncate, type Failure } from './broker-io.ts';
import { createGoodFiles } from './good-files.ts';
import { createOwnership } from './ownership.ts';
import { createQuarantine } from './quarantine.ts';
import { createSecurityReport } from './security-report.ts';
import { createConfSteps } from './conf-steps.ts';

export type Logger = Readonly<{
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}>;

/** What the apply loop asks of its worker: files (below) or the dynamic-security plugin (adapters/dynsec). */
export type ApplyWorker = Pick<ReturnType<typeof createApplyWorker>,
  'stats' | 'brokerUp' | 'apply' | 'reportStartupDrift' | 'checkEnforcement' | 'fileChanged' | 'brokerExited' | 'quarantine' | 'adoption' | 'foreignNow' | 'prepare'>;

export const createApplyWorker = (deps: ApplyLoopDeps) => {
  const { files, results, reloader } = deps;
  const io = createBrokerIo(deps);
  const { counters, expected, readDisk, write, writeAll, reload, confirm } = io;
  const goodFiles = createGoodFiles({ files, results, state: () => deps.store.state() });
  const loadGood = goodFiles.load;
  const isGood = goodFiles.isGood;
  /** Drift already reported, so one outside edit is one security event. */
  const reported = new Map<string, string>();
  const security = createSecurityReport(deps);
  const ownership = createOwnership({
    files, state: () => deps.store.state(), goodFiles, ownWrite: io.ownWrite, security, logger: deps.logger,
  });
  const { foreignFiles, isAdopted, setAdoption, adoptionOutcome } = ownership;
  const quarantine = createQuarantine({ results, clock: deps.clock, security, logger: deps.logger });

  const { writeTls, pruneTls, restartNeeded, listenersAnswer } = createConfSteps(deps);

  /** The last planned restart failed (the broker refused the new mosquitto.conf): already reported as the apply's failure. */
  let startFailed = false;

  /** Puts the last-known-good files back, reloads, re-probes. Returns null when enforcement is back. */
  const restore = async (why: string): Promise<Failure | null> => {
    if (ownership.adoption()) return { reason: 'not restoring: the broker files on disk were not written by MCM (adoption required)', failOpen: false };
    const good = loadGood();
    if (good.generation === null) return { reason: 'no last-known-good files to restore', failOpen: false };
    // Rewritten even when the bytes match: a changed mode or owner (an unreadable file) fails open too.
    writeTls(good.config);
    writeAll(good.files, readDisk(), true);
    // Restart when the broker runs a configuration a reload can't take back, or did not come up on
    // a new one (a planned restart that failed: nothing restarts it on its own). A broker that is
    // merely down (killed, or a 2.1 exit on a bad reload) is restarted by its supervisor, which then
    // re-applies; the branch below handles that.
    if (deps.restartBroker && (restartNeeded(good.files) || startFailed)) {
      startFailed = false;
      // The broker runs (or failed to start) on a configuration a reload cannot take back.
      const down = await deps.restartBroker();
      if (down !== null) {
        security('apply.restore_failed', 'critical', `restarting the broker on the last-known-good files (${why}) failed: ${down}`, { generation: good.generation });
        return { reason: `restart on the last-known-good files failed: ${down}`, failOpen: false };
      }
      const f = await confirm(good.generation, good.allowAnonymous, null, null, passwordMarker(good.files.get('password_file')));
      if (f) security('apply.restore_failed', 'critical', `restoring the last-known-good files (${why}) did not bring enforcement back: ${f.reason}`, { generation: good.generation });
      else deps.logger?.info({ generation: good.generation }, `restored last-known-good files and restarted the broker (${why})`);
      return f;
    }
    const gone = io.brokerGone();
    if (gone !== null) {
      // Nothing to reload: the broker reads the restored files when it starts again (supervised:
      // the supervisor restarts it; external: whoever runs it, reference §8).
      security('broker.exited', 'critical', `${gone}; the last-known-good files of generation ${good.generation} are restored (${why})` +
        `${deps.brokerRunning ? '; restarting the broker on them' : '; start the broker again'}`, { generation: good.generation });
      return null;
    }
    const mark = deps.brokerLog?.mark() ?? null;
    const f = (await reload()) ?? (await confirm(good.generation, good.allowAnonymous, mark, null, passwordMarker(good.files.get('password_file'))));
    if (f) security(f.failOpen ? 'apply.fail_open' : 'apply.restore_failed', 'critical', `restoring the last-known-good files (${why}) did not bring enforcement back: ${f.reason}`, { generation: good.generation });
    else deps.logger?.info({ generation: good.generation }, `restored last-known-good files (${why})`);
    return f;
  };

  const recordGood = (generation: number, result: 'applied' | 'written', onDisk: ReadonlyMap<FileName, string>, latencyMs: number, reason: string | null, config: BrokerConfigModel): void =>
    goodFiles.record({ generation, result, onDisk, config, latencyMs, reason, at: deps.clock.now() });

  /** The reason of the last apply that failed on an error: its retries don't raise it again. */
  let lastErrorReason: string | null = null;
  /**
   * `quarantineKey`: the content key of the render this apply wrote; when it failed open, that
   * content is quarantined with the failure (issue 12).
   */
  const failed = async (generation: number, f: Failure, started: number, restoreNeeded: boolean, errored = false, quarantineKey: string | null = null): Promise<ApplyOutcome> => {
    let reason = f.reason;
    if (restoreNeeded) {
      const r = await restore(`apply of generation ${generation} failed`);
      reason += r ? `; restore failed: ${r.reason}` : '; last-known-good files restored';
    }
    const latencyMs = performance.now() - started;
    const at = deps.clock.now();
    try {
      const input = { generation, result: 'failed' as const, reason: truncate(reason, 2000), latencyMs, at };
      if (f.failOpen && quarantineKey !== null) {
        const q = { content_sha256: quarantineKey, generation, reason: truncate(f.reason, 500), at };
        results.recordQuarantined(input, q);
        quarantine.set(q);
        reason += `; ${quarantineMessage(q)}`;
      } else {
        results.record(input);
      }
    } catch (e) {
      // The database refused even the failure (disk full, locked): the outcome still stands.
      deps.logger?.error({ err: (e as Error).message, generation }, 'cannot record the failed apply');
    }
    const repeated = errored && reason === lastErrorReason;
    lastErrorReason = errored ? reason : null;
    if (f.failOpen) security('apply.fail_open', 'critical', `fail-open detected while applying generation ${generation}: ${f.reason}`, { generation });
    else if (repeated) deps.logger?.warn({ generation }, `apply of generation ${generation} failed again: ${reason}`);
    else security('apply.failed', 'warning', `apply of generation ${generation} failed: ${reason}`, { generation });
    return { generation, result: 'failed', reason, latencyMs, wrote: restoreNeeded, reloaded: restoreNeeded, failOpen: f.failOpen, retryable: f.retryable === true };
  };

  const reportDrift = (spec: FileSpec, content: string | null, when: string): void => {
    const key = content === null ? '<missing>' : sha256(content);
    if (reported.get(spec.path) === key) return;
    reported.set(spec.path, key);
    security('files.drift', 'warning', `${spec.name} ${spec.path} was ${content === null ? 'removed' : 'changed'} outside MCM (${when}; drift: ${deps.drift})`, {
      file: spec.name, path: spec.path, action: deps.drift,
    });
  };

  const applyOnce = async ({ force, since }: { force: boolean; since: number | null }): Promise<ApplyOutcome> => {
    const started = since ?? performance.now();
    const phases: Record<string, number> = {};
    let lap = performance.now();
    phases['wait'] = lap - started;
    const mark = (name: string): void => { const now = performance.now(); phases[name] = now - lap; lap = now; };
    const state = deps.store.state();
    const generation = state.generation;
    const candidate = files.render(state, generation);
    quarantine.set(null);
    mark('render');
    const problems = files.validate(candidate);
    mark('validate');
    if (problems.length) {
      // Never hand the broker a file its grammar rejects (DESIGN §6, reference §3.4 rule 1).
      return failed(generation, { reason: `render failed validation: ${problems.slice(0, 5).join('; ')}`, failOpen: false }, started, false);
    }
    const disk = readDisk();
    if (ownership.adoption()) {
      // Found at start: still foreign unless an import or takeover adopted it, or it is gone.
      setAdoption(foreignFiles(disk, candidate), 'apply');
      if (ownership.adoption()) return adoptionOutcome(generation, started);
    }
    const good = loadGood();
    const sameAsGood = good.complete && files.specs.every((s) => {
      const c = candidate.get(s.name);
      return c !== undefined && sameContent(s.name, c, good.files.get(s.name));
    });
    const diskIsGood = good.complete && files.specs.every((s) => disk.get(s.name) === good.files.get(s.name));
    if (good.complete) {
      for (const s of files.specs) {
        const now = disk.get(s.name);
        if (!isGood(good, s.name, now) && now !== candidate.get(s.name) && !io.ownWrite(s.name, now) && !isAdopted(s, now)) reportDrift(s, now ?? null, 'found at apply');
      }
    }
    mark('compare');

    // A replaced certificate (same name, new PEM) leaves mosquitto.conf as it is: the broker
    // re-reads certificate files on SIGHUP (reference §3.1), so the new files are a change to apply.
    const tlsPending = files.tlsFiles(state.brokerConfig ?? emptyBrokerConfig()).some((f) => readTextOrNull(f.path) !== f.content);
    if (sameAsGood && !force && !tlsPending && (diskIsGood || deps.drift === 'report')) {
      // Nothing to write: the broker already has these rules; the file keeps its own generation.
      for (const s of files.specs) expected.set(s.path, disk.get(s.name) ?? good.files.get(s.name) ?? '');
      const last = results.lastSuccess();
      if (last && last.generation >= generation) return { generation, result: last.result, latencyMs: 0, wrote: false, reloaded: false };
      const result = reloader.confirms ? 'applied' : 'written';
      const latencyMs = performance.now() - started;
      recordGood(generation, result, good.files, latencyMs, 'no change to the broker files', good.config);
      return { generation, result, latencyMs, wrote: false, reloaded: false };
    }

    // Forced with nothing to change keeps the good files (and their generation) but re-proves them.
    const wanted = sameAsGood && diskIsGood && !tlsPending ? good.files : candidate;
    const wantedConfig = wanted === good.files ? good.config : state.brokerConfig ?? emptyBrokerConfig();
    // Content that failed open is not handed to the broker again until it changes or an admin
    // retries (issue 12). Hashing the render is skipped while nothing is quarantined.
    const key = wanted !== good.files && results.anyQuarantined() ? quarantine.renderKey(candidate) : null;
    const held = key === null ? null : results.quarantined(key);
    quarantine.set(held);
    if (held) return quarantine.heldBack(generation, held, started);
    mark('quarantine');
    // Connect the probe while the files are written: the reload does not drop it (reference §3.3).
    const session = reloader.confirms ? deps.openProbeSession?.() ?? null : null;
    let wrote: boolean;
    try {
      writeTls(wantedConfig);
      wrote = await io.writeAllStepwise(wanted, disk);
    } catch (e) {
      session?.close();
      throw e;
    }
    mark('write');
    if (!reloader.confirms) {
      const latencyMs = performance.now() - started;
      recordGood(generation, 'written', wanted, latencyMs, `reload strategy ${reloader.strategy}: written, not reloaded or confirmed`, wantedConfig);
      return { generation, result: 'written', reason: `reload strategy ${reloader.strategy}: the broker was not told`, latencyMs, wrote, reloaded: false };
    }
    try { await deps.beforeReload?.(); } catch (e) { deps.logger?.warn({ err: (e as Error).message }, 'beforeReload hook failed'); }
    const logMark = deps.brokerLog?.mark() ?? null;
    // Listeners, bridges and several limits are not reloaded (reference §3.2): restart for them.
    const restart = deps.restartBroker && restartNeeded(wanted) ? deps.restartBroker : null;
    if (restart) session?.close();
    const down = restart ? await restart() : null;
    startFailed = down !== null;
    const rf = restart
      ? (down === null ? null : { reason: `the broker did not start on the new mosquitto.conf: ${down}`, failOpen: false })
      : await reload();
    if (rf) session?.close();
    const writtenGen = aclGeneration(wanted.get('acl_file')) ?? generation;
    const f = rf ?? await confirm(writtenGen, state.settings.allowAnonymous, restart ? null : logMark, restart ? null : session, passwordMarker(wanted.get('password_file')))
      ?? await listenersAnswer(wantedConfig);
    mark('reload_confirm');
    // The good content never goes into quarantine: it is what a restore puts back.
    if (f) return failed(generation, f, started, good.complete && wanted !== good.files, false, sameAsGood ? null : key ?? quarantine.renderKey(candidate));
    const latencyMs = performance.now() - started;
    recordGood(generation, 'applied', wanted, latencyMs, wrote ? null : `files unchanged; ${restart ? 'restarted' : 'reloaded'} and confirmed`, wantedConfig);
    pruneTls(wantedConfig);
    mark('checkpoint');
    reported.clear();
    lastErrorReason = null;
    return { generation, result: 'applied', latencyMs, wrote, reloaded: true, ...(restart ? { restarted: true } : {}), phases };
  };

  /**
   * An unexpected error (a write that fails: disk full, permissions; a checkpoint the database
   * refuses) is a failed apply marked `errored`, never a crash; the loop retries it.
   * `lift`: an admin's retry, which lifts every quarantine before applying.
   */
  const apply = async (args: { force: boolean; since: number | null; lift?: boolean }): Promise<ApplyOutcome> => {
    counters.applies++;
    try {
      if (args.lift === true) quarantine.lift();
      return await applyOnce(args);
    } catch (e) {
      const generation = deps.store.state().generation;
      const o = await failed(generation, { reason: `apply error: ${(e as Error).message}`, failOpen: false }, args.since ?? performance.now(), false, true);
      return { ...o, errored: true };
    }
  };

  /**
   * Start-up (DESIGN §6, §10): a password_file or acl_file that is not the last file MCM wrote
   * and confirmed (nor its own unconfirmed write after a crash, nor the current render) is
   * foreign: adoption is required and nothing is written. A removed or emptied file, or a
   * changed mosquitto.conf, is drift.
   */
  let startupChecked = false;
  const reportStartupDrift = (): void => {
    if (startupChecked) return;
    startupChecked = true;
    // A crash in the middle of an atomic write leaves its temp file: nothing writes them now.
    for (const s of files.specs) {
      const removed = removeStaleTempFiles(s.path);
      if (removed.length) deps.logger?.info({ files: removed }, 'removed temp files an interrupted write left behind');
    }
    const good = loadGood();
    const disk = readDisk();
    const state = deps.store.state();
    const candidate = files.render(state, state.generation);
    const foreign = foreignFiles(disk, candidate);
    setAdoption(foreign, 'found at start-up');
    if (!good.complete) return;
    for (const s of files.specs) {
      const now = disk.get(s.name) ?? null;
      if (foreign.some((f) => f.file === s.name)) continue;
      // A crash between MCM's own write and its checkpoint leaves files that are neither.
      if (!isGood(good, s.name, now) && now !== candidate.get(s.name) && !io.ownWrite(s.name, now)) reportDrift(s, now, 'found at start-up');
    }
  };

  const checkEnforcement = async (reason: string): Promise<ProbeResult | null> => {
    // The broker runs on the operator's files: MCM's probe account is not in them (no alarms).
    if (ownership.adoption()) return null;
    const good = loadGood();
    if (good.generation === null || !reloader.confirms) return null;
    const probe = await deps.probe({ generation: good.generation, allowAnonymous: good.allowAnonymous, passwordMarker: passwordMarker(good.files.get('password_file')) });
    const wasReachable = io.reachable();
    io.setReachable(probe.ok || !probe.unreachable);
    if (probe.ok) return probe;
    if (probe.unreachable) {
      if (wasReachable) security('broker.unreachable', 'warning', `broker unreachable (${reason}): ${probe.reason}`);
      return probe;
    }
    // A reload MCM did not send (logrotate, systemctl reload, an edited file) left the broker open
    // or on other files: put the last-known-good files back (DESIGN §6).
    security(probe.failOpen ? 'apply.fail_open' : 'apply.probe_failed', probe.failOpen ? 'critical' : 'warning',
      `enforcement check (${reason}) failed: ${probe.reason}; restoring the last-known-good files`, { generation: good.generation });
    await restore(`enforcement check (${reason})`);
    return probe;
  };

  /** Returns true when an apply should run (a foreign file changed: it may be adoptable now). */
  const fileChanged = async (path: string): Promise<boolean> => {
    if (ownership.adoption()) return files.byPath(path) !== undefined;
    const spec = files.byPath(path);
    const want = expected.get(path);
    if (!spec || want === undefined) return false;
    const now = readTextOrNull(path);
    if (now === want) return false;
    reportDrift(spec, now, 'seen by the file watcher');
    if (deps.drift === 'report') {
      // Leave the file, but make sure the broker is not left open by it (DESIGN §6).
      await checkEnforcement('after drift');
      return false;
    }
    write(spec, want);
    counters.writes++;
    reported.delete(path);
    // The broker may have reloaded the edited file meanwhile: reload the restored one and prove it.
    const good = loadGood();
    if (!reloader.confirms || good.generation === null) return false;
    const mark = deps.brokerLog?.mark() ?? null;
    const f = (await reload()) ?? (await confirm(good.generation, good.allowAnonymous, mark, null, passwordMarker(good.files.get('password_file'))));
    if (f) {
      security(f.failOpen ? 'apply.fail_open' : 'apply.restore_failed', 'critical', `restoring ${spec.name} after drift did not confirm: ${f.reason}`);
      await restore('after drift');
    }
    return false;
  };

  /**
   * The broker exited on its own (supervised, before it is restarted). Code 3 is what 2.1 does
   * when a reload meets a bad file, and it refuses the same file at start (reference §8): put the
   * last-known-good files back so the restart does not loop. An apply that caused it has already
   * restored them (this runs after it, on the loop's queue).
   */
  const brokerExited = (code: number | null): void => {
    if (ownership.adoption() || code !== 3) return;
    const good = loadGood();
    if (!good.complete) return;
    const disk = readDisk();
    if (files.specs.every((s) => disk.get(s.name) === good.files.get(s.name))) return;
    writeAll(good.files, disk, true);
    security('broker.exited', 'critical', `the broker exited with code 3 (Mosquitto 2.1 does on a reload that meets a bad file, reference §8): the last-known-good files of generation ${good.generation} are restored before it restarts`, { generation: good.generation });
  };

  return {
    expected,
    stats: () => ({ ...counters }),
    brokerUp: (): boolean => (deps.brokerRunning ? deps.brokerRunning() : io.reachable()),
    apply,
    reportStartupDrift,
    checkEnforcement,
    fileChanged,
    brokerExited,
    /** The quarantine holding back the current render, else null. */
    quarantine: (): QuarantineRow | null => quarantine.current(),
    /** The foreign files while adoption is required, else null. */
    adoption: (): readonly ForeignFile[] | null => ownership.adoption(),
    /** The foreign files on disk now (for `--force-takeover` before the first apply). */
    foreignNow: (): ForeignFile[] => {
      const state = deps.store.state();
      return foreignFiles(readDisk(), files.render(state, state.generation));
    },

    /** Supervised start-up: valid files on disk before the broker reads them (it exits on bad ones, reference §3.4). */
    prepare(): void {
      reportStartupDrift();
      if (ownership.adoption()) {
        // The broker starts on the operator's files, untouched; only MCM's own mosquitto.conf is written.
        const st = deps.store.state();
        writeTls(st.brokerConfig ?? emptyBrokerConfig());
        const conf = files.renderConf(st.settings.allowAnonymous, st.brokerConfig ?? emptyBrokerConfig());
        if (conf !== null) writeAll(new Map<FileName, string>([['mosquitto_conf', conf]]), readDisk());
        return;
      }
      const good = loadGood();
      if (!good.complete) {
        const state = deps.store.state();
        const candidate = files.render(state, state.generation);
        const problems = files.validate(candidate);
        if (problems.length) throw new Error(`cannot start the broker: the rendered files are invalid and there are no last-known-good files: ${problems.slice(0, 3).join('; ')}`);
        writeTls(state.brokerConfig ?? emptyBrokerConfig());
        writeAll(candidate, readDisk());
        return;
      }
      // The broker starts on the last-known-good files; the first apply moves it on.
      writeTls(good.config);
      writeAll(good.files, readDisk());
    },
  };
};
