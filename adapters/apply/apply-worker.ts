/**
 * The steps of one apply and of the enforcement check, run by apply-loop.ts one at a time
 * (DESIGN §6). Nothing here schedules; everything here assumes it is the only thing touching the
 * broker's files right now.
 */
import { performance } from 'node:perf_hooks';
import type { ProbeResult } from '../mosquitto/probe.ts';
import { fileSha256, readTextOrNull, removeStaleTempFiles } from '../files/write-rendered-file.ts';
import type { QuarantineRow } from '../sqlite/apply-results.ts';
import { adoptionMessage, quarantineMessage, type ApplyOutcome, type ForeignFile } from './apply-status.ts';
import { aclGeneration, confAllowsAnonymous, contentKey, passwordMarker, sameContent, sha256, type FileName, type FileSpec, type RenderedFiles } from './broker-files.ts';
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
  /**
   * Foreign files found at start (DESIGN §10 "Ownership"): while set, MCM writes nothing to the
   * broker's files — no apply, no restore, no drift repair — and sends no reload or probe.
   */
  let adoption: ForeignFile[] | null = null;
  /** Contents already reported as needing adoption: one security event per content. */
  const adoptionReported = new Set<string>();

  const security = (category: string, severity: 'info' | 'warning' | 'critical', message: string, details: Record<string, unknown> = {}): void => {
    try { deps.security.record({ category, severity, message, details }); } catch (e) {
      deps.logger?.error({ err: (e as Error).message }, 'cannot record security event');
    }
    const log = severity === 'critical' ? deps.logger?.error : severity === 'warning' ? deps.logger?.warn : deps.logger?.info;
    log?.call(deps.logger, { category, ...details }, message);
  };

  /** Puts the last-known-good files back, reloads, re-probes. Returns null when enforcement is back. */
  const restore = async (why: string): Promise<Failure | null> => {
    if (adoption) return { reason: 'not restoring: the broker files on disk were not written by MCM (adoption required)', failOpen: false };
    const good = loadGood();
    if (good.generation === null) return { reason: 'no last-known-good files to restore', failOpen: false };
    // Rewritten even when the bytes match: a changed mode or owner (an unreadable file) fails open too.
    writeAll(good.files, readDisk(), true);
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

  const recordGood = (generation: number, result: 'applied' | 'written', onDisk: ReadonlyMap<FileName, string>, latencyMs: number, reason: string | null): void =>
    goodFiles.record({ generation, result, onDisk, latencyMs, reason, at: deps.clock.now() });

  /** The reason of the last apply that failed on an error: its retries don't raise it again. */
  let lastErrorReason: string | null = null;
  /** The quarantine the current render is held back by (shown in the apply status), or null. */
  let quarantine: QuarantineRow | null = null;
  /** Quarantined contents already reported as held back: one security event per content. */
  const quarantineReported = new Set<string>();

  /**
   * The render's content as one sha256: the two files without what only the generation changes,
   * and (supervised) allow_anonymous — not mosquitto.conf's listeners and paths, which follow
   * MCM's configuration rather than the rules (a restart on another port is the same content).
   */
  const renderKey = (rendered: ReadonlyMap<FileName, string>): string => sha256([
    contentKey('password_file', rendered.get('password_file') ?? ''),
    contentKey('acl_file', rendered.get('acl_file') ?? ''),
    String(confAllowsAnonymous(rendered.get('mosquitto_conf'))),
  ].join('\0'));

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
        quarantine = q;
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

  /**
   * The password_file / acl_file on disk that MCM did not write (DESIGN §10): not the last-known-good
   * bytes, not MCM's own unconfirmed write, not what it would render now, and not adopted (sha256
   * in state.adoptedFiles). An empty or missing file holds nothing to lose.
   */
  const foreignFiles = (disk: ReadonlyMap<FileName, string | null>, candidate: RenderedFiles | null): ForeignFile[] => {
    const good = loadGood();
    const adopted = deps.store.state().adoptedFiles ?? {};
    const out: ForeignFile[] = [];
    for (const s of files.specs) {
      if (s.name === 'mosquitto_conf') continue;
      const now = disk.get(s.name);
      if (now === null || now === undefined || now.length === 0) continue;
      if (isGood(good, s.name, now) || io.ownWrite(s.name, now) || sameContent(s.name, now, candidate?.get(s.name))) continue;
      const h = fileSha256(s.path) ?? sha256(now);
      if (adopted[s.name]?.sha256 === h) continue;
      out.push({ file: s.name, path: s.path, sha256: h });
    }
    return out;
  };

  /** An import or takeover adopted exactly these bytes: replacing them is the point, not drift. */
  const isAdopted = (spec: FileSpec, content: string | null | undefined): boolean => {
    if (spec.name === 'mosquitto_conf' || content === null || content === undefined) return false;
    const adopted = deps.store.state().adoptedFiles?.[spec.name];
    return adopted !== undefined && (fileSha256(spec.path) ?? sha256(content)) === adopted.sha256;
  };

  const setAdoption = (foreign: ForeignFile[], when: string): void => {
    if (foreign.length === 0) {
      if (adoption) deps.logger?.info({ files: adoption.map((f) => f.file) }, 'the foreign broker files are adopted or gone: MCM writes the broker files again');
      adoption = null;
      return;
    }
    adoption = foreign;
    const key = foreign.map((f) => `${f.file}:${f.sha256}`).join(',');
    if (adoptionReported.has(key)) return;
    adoptionReported.add(key);
    security('files.adoption_required', 'warning', `${adoptionMessage(foreign)} (${when})`, { files: foreign, action: 'mcm import' });
  };

  /** An apply that wrote nothing because foreign files are on disk. */
  const adoptionOutcome = (generation: number, started: number): ApplyOutcome => ({
    generation, result: 'adoption_required', reason: adoptionMessage(adoption ?? []),
    latencyMs: performance.now() - started, wrote: false, reloaded: false,
  });

  const applyOnce = async ({ force, since }: { force: boolean; since: number | null }): Promise<ApplyOutcome> => {
    const started = since ?? performance.now();
    const phases: Record<string, number> = {};
    let lap = performance.now();
    phases['wait'] = lap - started;
    const mark = (name: string): void => { const now = performance.now(); phases[name] = now - lap; lap = now; };
    const state = deps.store.state();
    const generation = state.generation;
    const candidate = files.render(state, generation);
    quarantine = null;
    mark('render');
    const problems = files.validate(candidate);
    mark('validate');
    if (problems.length) {
      // Never hand the broker a file its grammar rejects (DESIGN §6, reference §3.4 rule 1).
      return failed(generation, { reason: `render failed validation: ${problems.slice(0, 5).join('; ')}`, failOpen: false }, started, false);
    }
    const disk = readDisk();
    if (adoption) {
      // Found at start: still foreign unless an import or takeover adopted it, or it is gone.
      setAdoption(foreignFiles(disk, candidate), 'apply');
      if (adoption) return adoptionOutcome(generation, started);
    }
    const good = loadGood();
    const sameAsGood = good.complete && files.specs.every((s) => {
      const c = candidate.get(s.name);
      return c !== undefined && contentKey(s.name, c) === good.keys.get(s.name);
    });
    const diskIsGood = good.complete && files.specs.every((s) => disk.get(s.name) === good.files.get(s.name));
    if (good.complete) {
      for (const s of files.specs) {
        const now = disk.get(s.name);
        if (!isGood(good, s.name, now) && now !== candidate.get(s.name) && !io.ownWrite(s.name, now) && !isAdopted(s, now)) reportDrift(s, now ?? null, 'found at apply');
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
    // Content that failed open is not handed to the broker again until it changes or an admin
    // retries (issue 12). Hashing the render is skipped while nothing is quarantined.
    const key = wanted !== good.files && results.anyQuarantined() ? renderKey(candidate) : null;
    const held = key === null ? null : results.quarantined(key);
    quarantine = held;
    if (held) return quarantined(generation, held, started);
    mark('quarantine');
    // Connect the probe while the files are written: the reload does not drop it (reference §3.3).
    const session = reloader.confirms ? deps.openProbeSession?.() ?? null : null;
    let wrote: boolean;
    try {
      wrote = await io.writeAllStepwise(wanted, disk);
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
    const f = rf ?? await confirm(writtenGen, state.settings.allowAnonymous, logMark, session, passwordMarker(wanted.get('password_file')));
    mark('reload_confirm');
    // The good content never goes into quarantine: it is what a restore puts back.
    if (f) return failed(generation, f, started, good.complete && wanted !== good.files, false, sameAsGood ? null : key ?? renderKey(candidate));
    const latencyMs = performance.now() - started;
    recordGood(generation, 'applied', wanted, latencyMs, wrote ? null : 'files unchanged; reloaded and confirmed');
    mark('checkpoint');
    reported.clear();
    lastErrorReason = null;
    return { generation, result: 'applied', latencyMs, wrote, reloaded: true, phases };
  };

  /** An apply held back because its content is quarantined: nothing written, recorded as failed. */
  const quarantined = (generation: number, q: QuarantineRow, started: number): ApplyOutcome => {
    const reason = `not applied: ${quarantineMessage(q)}`;
    const latencyMs = performance.now() - started;
    try {
      results.record({ generation, result: 'failed', reason: truncate(reason, 2000), latencyMs, at: deps.clock.now() });
    } catch (e) {
      deps.logger?.error({ err: (e as Error).message, generation }, 'cannot record the quarantined apply');
    }
    if (!quarantineReported.has(q.content_sha256)) {
      quarantineReported.add(q.content_sha256);
      security('apply.quarantined', 'warning', `apply of generation ${generation} held back: ${quarantineMessage(q)}`, { generation, quarantined_generation: q.generation, content_sha256: q.content_sha256 });
    }
    return { generation, result: 'failed', reason, latencyMs, wrote: false, reloaded: false, quarantined: true };
  };

  /**
   * An unexpected error (a write that fails: disk full, permissions; a checkpoint the database
   * refuses) is a failed apply marked `errored`, never a crash; the loop retries it.
   * `lift`: an admin's retry, which lifts every quarantine before applying.
   */
  const apply = async (args: { force: boolean; since: number | null; lift?: boolean }): Promise<ApplyOutcome> => {
    counters.applies++;
    try {
      if (args.lift === true) {
        const n = results.liftQuarantine();
        if (n > 0) {
          security('apply.quarantine_lifted', 'info', `an admin retried the apply: ${n} quarantined configuration${n === 1 ? '' : 's'} may be applied again`, { lifted: n });
          quarantineReported.clear();
        }
        quarantine = null;
      }
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
    if (adoption) return null;
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
    if (adoption) return files.byPath(path) !== undefined;
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
    if (adoption || code !== 3) return;
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
    quarantine: (): QuarantineRow | null => quarantine,
    /** The foreign files while adoption is required, else null. */
    adoption: (): readonly ForeignFile[] | null => adoption,
    /** The foreign files on disk now (for `--force-takeover` before the first apply). */
    foreignNow: (): ForeignFile[] => {
      const state = deps.store.state();
      return foreignFiles(readDisk(), files.render(state, state.generation));
    },

    /** Supervised start-up: valid files on disk before the broker reads them (it exits on bad ones, reference §3.4). */
    prepare(): void {
      reportStartupDrift();
      if (adoption) {
        // The broker starts on the operator's files, untouched; only MCM's own mosquitto.conf is written.
        const conf = files.renderConf(deps.store.state().settings.allowAnonymous);
        if (conf !== null) writeAll(new Map<FileName, string>([['mosquitto_conf', conf]]), readDisk());
        return;
      }
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
