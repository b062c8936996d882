/**
 * The steps of one apply and of the enforcement check, run by apply-loop.ts one at a time
 * (DESIGN §6). Nothing here schedules; everything here assumes it is the only thing touching the
 * broker's files right now.
 */
import { performance } from 'node:perf_hooks';
import type { ProbeResult } from '../mosquitto/probe.ts';
import { readTextOrNull, removeStaleTempFiles } from '../files/write-rendered-file.ts';
import type { ApplyOutcome } from './apply-status.ts';
import { aclGeneration, contentKey, sha256, type FileName, type FileSpec } from './broker-files.ts';
import type { ApplyLoopDeps } from './apply-loop.ts';
import { createBrokerIo, truncate, type Failure } from './broker-io.ts';
import { createGoodFiles } from './good-files.ts';

export type Logger = Readonly<{
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}>;

export const createApplyWorker = (deps: ApplyLoopDeps) => {
  const { files, results, reloader } = deps;
  const io = createBrokerIo(deps);
  const { counters, expected, readDisk, write, writeAll, reload, confirm } = io;
  const goodFiles = createGoodFiles({ files, results, state: () => deps.store.state() });
  const loadGood = goodFiles.load;
  const isGood = goodFiles.isGood;
  /** Drift already reported, so one outside edit is one security event. */
  const reported = new Map<string, string>();

  const security = (category: string, severity: 'info' | 'warning' | 'critical', message: string, details: Record<string, unknown> = {}): void => {
    try { deps.security.record({ category, severity, message, details }); } catch (e) {
      deps.logger?.error({ err: (e as Error).message }, 'cannot record security event');
    }
    const log = severity === 'critical' ? deps.logger?.error : severity === 'warning' ? deps.logger?.warn : deps.logger?.info;
    log?.call(deps.logger, { category, ...details }, message);
  };

  /** Puts the last-known-good files back, reloads, re-probes. Returns null when enforcement is back. */
  const restore = async (why: string): Promise<Failure | null> => {
    const good = loadGood();
    if (good.generation === null) return { reason: 'no last-known-good files to restore', failOpen: false };
    // Rewritten even when the bytes match: a changed mode or owner (an unreadable file) fails open too.
    writeAll(good.files, readDisk(), true);
    const mark = deps.brokerLog?.mark() ?? null;
    const f = (await reload()) ?? (await confirm(good.generation, good.allowAnonymous, mark));
    if (f) security(f.failOpen ? 'apply.fail_open' : 'apply.restore_failed', 'critical', `restoring the last-known-good files (${why}) did not bring enforcement back: ${f.reason}`, { generation: good.generation });
    else deps.logger?.info({ generation: good.generation }, `restored last-known-good files (${why})`);
    return f;
  };

  const recordGood = (generation: number, result: 'applied' | 'written', onDisk: ReadonlyMap<FileName, string>, latencyMs: number, reason: string | null): void =>
    goodFiles.record({ generation, result, onDisk, latencyMs, reason, at: deps.clock.now() });

  /** The reason of the last apply that failed on an error: its retries don't raise it again. */
  let lastErrorReason: string | null = null;

  const failed = async (generation: number, f: Failure, started: number, restoreNeeded: boolean, errored = false): Promise<ApplyOutcome> => {
    let reason = f.reason;
    if (restoreNeeded) {
      const r = await restore(`apply of generation ${generation} failed`);
      reason += r ? `; restore failed: ${r.reason}` : '; last-known-good files restored';
    }
    const latencyMs = performance.now() - started;
    try {
      results.record({ generation, result: 'failed', reason: truncate(reason, 2000), latencyMs, at: deps.clock.now() });
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
    mark('render');
    const problems = files.validate(candidate);
    mark('validate');
    if (problems.length) {
      // Never hand the broker a file its grammar rejects (DESIGN §6, reference §3.4 rule 1).
      return failed(generation, { reason: `render failed validation: ${problems.slice(0, 5).join('; ')}`, failOpen: false }, started, false);
    }
    const good = loadGood();
    const disk = readDisk();
    const sameAsGood = good.complete && files.specs.every((s) => {
      const c = candidate.get(s.name);
      return c !== undefined && contentKey(s.name, c) === good.keys.get(s.name);
    });
    const diskIsGood = good.complete && files.specs.every((s) => disk.get(s.name) === good.files.get(s.name));
    if (good.complete) {
      for (const s of files.specs) {
        const now = disk.get(s.name);
        if (!isGood(good, s.name, now) && now !== candidate.get(s.name) && !io.ownWrite(s.name, now)) reportDrift(s, now ?? null, 'found at apply');
      }
    }
    mark('compare');

    if (sameAsGood && !force && (diskIsGood || deps.drift === 'report')) {
      // Nothing to write: the broker already has these rules; the file keeps its own generation.
      for (const s of files.specs) expected.set(s.path, disk.get(s.name) ?? good.files.get(s.name) ?? '');
      const last = results.lastSuccess();
      if (last && last.generation >= generation) return { generation, result: last.result, latencyMs: 0, wrote: false, reloaded: false };
      const result = reloader.confirms ? 'applied' : 'written';
      const latencyMs = performance.now() - started;
      recordGood(generation, result, good.files, latencyMs, 'no change to the broker files');
      return { generation, result, latencyMs, wrote: false, reloaded: false };
    }

    // Forced with nothing to change keeps the good files (and their generation) but re-proves them.
    const wanted = sameAsGood && diskIsGood ? good.files : candidate;
    // Connect the probe while the files are written: the reload does not drop it (reference §3.3).
    const session = reloader.confirms ? deps.openProbeSession?.() ?? null : null;
    let wrote: boolean;
    try {
      wrote = writeAll(wanted, disk);
    } catch (e) {
      session?.close();
      throw e;
    }
    mark('write');
    if (!reloader.confirms) {
      const latencyMs = performance.now() - started;
      recordGood(generation, 'written', wanted, latencyMs, `reload strategy ${reloader.strategy}: written, not reloaded or confirmed`);
      return { generation, result: 'written', reason: `reload strategy ${reloader.strategy}: the broker was not told`, latencyMs, wrote, reloaded: false };
    }
    try { await deps.beforeReload?.(); } catch (e) { deps.logger?.warn({ err: (e as Error).message }, 'beforeReload hook failed'); }
    const logMark = deps.brokerLog?.mark() ?? null;
    const rf = await reload();
    if (rf) session?.close();
    const writtenGen = aclGeneration(wanted.get('acl_file')) ?? generation;
    const f = rf ?? await confirm(writtenGen, state.settings.allowAnonymous, logMark, session);
    mark('reload_confirm');
    if (f) return failed(generation, f, started, good.complete && wanted !== good.files);
    const latencyMs = performance.now() - started;
    recordGood(generation, 'applied', wanted, latencyMs, wrote ? null : 'files unchanged; reloaded and confirmed');
    mark('checkpoint');
    reported.clear();
    lastErrorReason = null;
    return { generation, result: 'applied', latencyMs, wrote, reloaded: true, phases };
  };

  /**
   * An unexpected error (a write that fails: disk full, permissions; a checkpoint the database
   * refuses) is a failed apply marked `errored`, never a crash; the loop retries it.
   */
  const apply = async (args: { force: boolean; since: number | null }): Promise<ApplyOutcome> => {
    counters.applies++;
    try {
      return await applyOnce(args);
    } catch (e) {
      const generation = deps.store.state().generation;
      const o = await failed(generation, { reason: `apply error: ${(e as Error).message}`, failOpen: false }, args.since ?? performance.now(), false, true);
      return { ...o, errored: true };
    }
  };

  /**
   * Start-up (DESIGN §6): files that differ from what was last confirmed are drift, unless they
   * are exactly the current render (a crash between write and checkpoint).
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
    if (!good.complete) return;
    const disk = readDisk();
    const state = deps.store.state();
    const candidate = files.render(state, state.generation);
    for (const s of files.specs) {
      const now = disk.get(s.name) ?? null;
      // A crash between MCM's own write and its checkpoint leaves files that are neither.
      if (!isGood(good, s.name, now) && now !== candidate.get(s.name) && !io.ownWrite(s.name, now)) reportDrift(s, now, 'found at start-up');
    }
  };

  const checkEnforcement = async (reason: string): Promise<ProbeResult | null> => {
    const good = loadGood();
    if (good.generation === null || !reloader.confirms) return null;
    const probe = await deps.probe({ generation: good.generation, allowAnonymous: good.allowAnonymous });
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

  const fileChanged = async (path: string): Promise<void> => {
    const spec = files.byPath(path);
    const want = expected.get(path);
    if (!spec || want === undefined) return;
    const now = readTextOrNull(path);
    if (now === want) return;
    reportDrift(spec, now, 'seen by the file watcher');
    if (deps.drift === 'report') {
      // Leave the file, but make sure the broker is not left open by it (DESIGN §6).
      await checkEnforcement('after drift');
      return;
    }
    write(spec, want);
    counters.writes++;
    reported.delete(path);
    // The broker may have reloaded the edited file meanwhile: reload the restored one and prove it.
    const good = loadGood();
    if (!reloader.confirms || good.generation === null) return;
    const mark = deps.brokerLog?.mark() ?? null;
    const f = (await reload()) ?? (await confirm(good.generation, good.allowAnonymous, mark));
    if (f) {
      security(f.failOpen ? 'apply.fail_open' : 'apply.restore_failed', 'critical', `restoring ${spec.name} after drift did not confirm: ${f.reason}`);
      await restore('after drift');
    }
  };

  return {
    expected,
    stats: () => ({ ...counters }),
    brokerUp: (): boolean => (deps.brokerRunning ? deps.brokerRunning() : io.reachable()),
    apply,
    reportStartupDrift,
    checkEnforcement,
    fileChanged,

    /** Supervised start-up: valid files on disk before the broker reads them (it exits on bad ones, reference §3.4). */
    prepare(): void {
      reportStartupDrift();
      const good = loadGood();
      if (!good.complete) {
        const state = deps.store.state();
        const candidate = files.render(state, state.generation);
        const problems = files.validate(candidate);
        if (problems.length) throw new Error(`cannot start the broker: the rendered files are invalid and there are no last-known-good files: ${problems.slice(0, 3).join('; ')}`);
        writeAll(candidate, readDisk());
        return;
      }
      // The broker starts on the last-known-good files; the first apply moves it on.
      writeAll(good.files, readDisk());
    },
  };
};
