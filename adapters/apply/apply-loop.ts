/**
 * The projection runner (DESIGN §6): after appends (coalesced), render → validate → compare with
 * the last applied render → write atomically → reload → confirm with probes → checkpoint; on
 * failure restore the last-known-good files, reload, record `failed`, raise a security event.
 *
 * One loop, serialised: applies, enforcement checks and drift handling run one at a time on one
 * queue, so there are never two appliers and a retry while applying waits its turn.
 */
import { performance } from 'node:perf_hooks';
import { BROKER_FILE_EVENTS, type EventEnvelope } from '../../core/events.ts';
import type { Clock, EventStore } from '../../core/ports.ts';
import type { BrokerLog } from '../mosquitto/broker-log.ts';
import type { ProbeResult, ProbeSession } from '../mosquitto/probe.ts';
import type { Reloader } from '../mosquitto/reloaders.ts';
import type { ApplyResults } from '../sqlite/apply-results.ts';
import type { SecurityEventInput } from '../sqlite/security-events.ts';
import { buildApplyStatus, type ApplyOutcome, type ApplyStatus } from './apply-status.ts';
import type { BrokerFiles } from './broker-files.ts';
import { createApplyWorker, type ApplyWorker, type Logger } from './apply-worker.ts';
import type { PairSwitch } from './pair-switch.ts';
import type { BrokerConfigModel } from '../../core/broker-config/model.ts';
import type { WriteIntent } from './write-intent.ts';

export type { Logger };

export type ApplyLoopDeps = Readonly<{
  store: EventStore;
  results: ApplyResults;
  security: { record(input: SecurityEventInput): unknown };
  clock: Clock;
  files: BrokerFiles;
  reloader: Reloader;
  /** Runs the DESIGN §6 probe against the broker for a generation. */
  probe: (opts: { generation: number; allowAnonymous: boolean; session?: ProbeSession | null; passwordMarker?: string | null }) => Promise<ProbeResult>;
  /** Opens the probe's connection early (while files are written), so confirmation is faster. */
  openProbeSession?: (() => ProbeSession) | null;
  mode: 'supervised' | 'external';
  drift: 'restore' | 'report';
  /** Longest a burst of appends is held back to coalesce it (config mosquitto.debounce_ms). */
  debounceMs: number;
  /** Supervised: reload errors are read from the broker's log (reference §3.4 rule 4). */
  brokerLog?: BrokerLog | null;
  /** Supervised: whether the child runs. External: undefined (reachability comes from probes). */
  brokerRunning?: (() => boolean) | null;
  /** Supervised: how the child last exited (its code names a 2.1 exit on a bad reload, reference §8). */
  brokerExit?: (() => { code: number | null } | null) | null;
  /** The broker's version ("2.0.11"), null while unknown; shown in the apply status. */
  brokerVersion?: (() => string | null) | null;
  logger?: Logger;
  onStatus?: (status: ApplyStatus) => void;
  /** Where MCM notes what it is about to write, so its own unconfirmed writes are never taken for drift. Default: in memory. */
  writeIntent?: WriteIntent | null;
  /** Test-only: runs after the files are written and before the reload (fault injection). */
  beforeReload?: (() => void | Promise<void>) | null;
  /** Test-only: runs between the renames of an apply that writes two or more files (issue 12). */
  betweenRenames?: (() => void | Promise<void>) | null;
  /**
   * Supervised: restarts the broker on the files now on disk (a mosquitto.conf change a reload
   * cannot apply, reference §3.2); resolves with why it did not come up, or null.
   */
  restartBroker?: (() => Promise<string | null>) | null;
  /** Supervised: the mosquitto.conf the running broker started with (null while unknown). */
  startedConf?: (() => string | null) | null;
  /** After an apply: every configured listener answers as configured (TCP, TLS certificate, websocket, CONNECT); null or why not. */
  probeListeners?: ((config: BrokerConfigModel) => Promise<string | null>) | null;
  /** Supervised: the broker reads the pair through one symlink, switched as one (pair-switch.ts). */
  pairSwitch?: PairSwitch | null;
  /** Another backend's hands (the dynamic-security plugin, issue 15); default: the files worker. */
  worker?: ApplyWorker | null;
  /** Which backend `worker` is, for the status. Default: files. */
  backend?: 'files' | 'dynsec';
}>;

export type ApplyLoop = {
  /** Supervised start-up: put valid files on disk before the broker first reads them. */
  prepare(): void;
  /** Subscribes to appends and catches up from the checkpoint (awaits the first apply). */
  start(): Promise<ApplyOutcome | null>;
  /** Runs an apply now (after whatever is in flight), even when nothing changed; lifts any quarantine. */
  retry(): Promise<ApplyOutcome | null>;
  status(): ApplyStatus;
  /** Resolves with the first outcome at or past `generation` (tests, bench). */
  waitForGeneration(generation: number, timeoutMs?: number): Promise<ApplyOutcome>;
  /** Probe now; on fail-open restore the last-known-good files (periodic check, after drift). */
  checkEnforcement(reason: string): Promise<ProbeResult | null>;
  /** A watcher saw `path` change. */
  fileChanged(path: string): Promise<void>;
  /** The supervised broker was restarted: re-apply and re-probe. */
  brokerRestarted(): Promise<ApplyOutcome | null>;
  /** The supervised broker exited unexpectedly: runs (queued) before it is restarted. */
  brokerExited(code: number | null): Promise<void>;
  /** Foreign broker files on disk now (DESIGN §10): what `--force-takeover` adopts at start. */
  foreignFiles(): { file: 'password_file' | 'acl_file'; path: string; sha256: string }[];
  onOutcome(listener: (o: ApplyOutcome) => void): () => void;
  stats(): { applies: number; writes: number; reloads: number };
  /** Finishes the in-flight work, then stops reacting. */
  stop(): Promise<void>;
};

/** Appends closer together than this are one burst. */
export const QUIET_MS = 2;

/** Retry delays after an apply that failed on an error (disk full, database locked): doubling, capped. */
export const ERROR_RETRY = { initialMs: 1000, maxMs: 30_000 } as const;

export const createApplyLoop = (deps: ApplyLoopDeps): ApplyLoop => {
  const worker = deps.worker ?? createApplyWorker(deps);
  const outcomeListeners = new Set<(o: ApplyOutcome) => void>();
  let chain: Promise<unknown> = Promise.resolve();
  let queuedApply: Promise<ApplyOutcome | null> | null = null;
  let timer: NodeJS.Timeout | null = null;
  /** The leading-edge trigger of a lone change (see onAppend). */
  let immediate: NodeJS.Immediate | null = null;
  let pendingSince: number | null = null;
  let unsubscribe: (() => void) | null = null;
  let stopped = false;
  let errorRetryTimer: NodeJS.Timeout | null = null;
  let errorRetries = 0;

  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const p = chain.then(fn);
    chain = p.catch(() => undefined);
    return p;
  };

  const status = (): ApplyStatus => buildApplyStatus({
    desired: deps.store.state().generation,
    lastSuccess: deps.results.lastSuccess(),
    last: deps.results.last(),
    mode: deps.mode,
    up: worker.brokerUp(),
    reload: deps.reloader.strategy,
    version: deps.brokerVersion?.() ?? null,
    backend: deps.backend ?? 'files',
    adoption: worker.adoption(),
    quarantine: worker.quarantine(),
  });

  let lastOutcome: ApplyOutcome | null = null;
  const emit = (o: ApplyOutcome | null): void => {
    if (!o) return;
    lastOutcome = o;
    for (const l of [...outcomeListeners]) {
      try { l(o); } catch { /* a listener must not break the loop */ }
    }
    try { deps.onStatus?.(status()); } catch { /* ditto */ }
  };

  /**
   * An apply that failed on an error is not a verdict on the files: nothing else would run it
   * again until the next change, so the loop does, with a doubling delay, until it goes through
   * (the files are rendered anew each time, so a retry never applies stale state).
   */
  const afterApply = (o: ApplyOutcome | null, threw: boolean): void => {
    if (stopped) return;
    if (threw || o?.errored === true) {
      if (errorRetryTimer) return;
      const delayMs = Math.min(ERROR_RETRY.maxMs, ERROR_RETRY.initialMs * 2 ** errorRetries);
      errorRetries++;
      deps.logger?.warn({ delayMs, attempt: errorRetries }, 'apply failed on an error; retrying after a delay');
      errorRetryTimer = setTimeout(() => {
        errorRetryTimer = null;
        void queueApply(false).catch((e: Error) => deps.logger?.error({ err: e.message }, 'apply retry failed unexpectedly'));
      }, delayMs);
      errorRetryTimer.unref();
    } else if (o !== null && o.result !== 'failed') {
      errorRetries = 0;
    }
  };

  /** One queued apply at a time: later triggers join it (coalescing, DESIGN §6). */
  const queueApply = (force: boolean, lift = false): Promise<ApplyOutcome | null> => {
    if (queuedApply && !force) return queuedApply;
    const p = serial(async () => {
      if (queuedApply === p) queuedApply = null;
      if (stopped) return null;
      const since = pendingSince;
      pendingSince = null;
      let o: ApplyOutcome;
      try {
        o = await worker.apply({ force, since, lift });
      } catch (e) {
        afterApply(null, true);
        throw e;
      }
      emit(o);
      afterApply(o, false);
      return o;
    });
    if (!force) queuedApply = p;
    return p;
  };

  /**
   * Coalescing (DESIGN §6). An append that follows a pause of QUIET_MS (a lone change, or the
   * first of a burst) is applied at once, on the next turn of the event loop, so whatever the same
   * turn appends (a batch, a loop of commands) joins it; a lone change is not held back (issue 14:
   * the wait was 2.3 ms of a 15 ms change at 1,000 users). Appends closer together than QUIET_MS
   * wait until they pause for QUIET_MS, but never longer than debounce_ms after the first of them,
   * and appends that arrive while an apply runs join the next one.
   */
  let burstStart = 0;
  let lastAppend = -Infinity;
  const run = (): void => {
    void queueApply(false).catch((e: Error) => deps.logger?.error({ err: e.message }, 'apply failed unexpectedly'));
  };
  const fire = (): void => {
    timer = null;
    const now = performance.now();
    const quietFor = now - lastAppend;
    const waited = now - burstStart;
    if (quietFor < QUIET_MS && waited < deps.debounceMs) {
      timer = setTimeout(fire, Math.max(1, Math.min(QUIET_MS - quietFor, deps.debounceMs - waited)));
      return;
    }
    run();
  };

  const onAppend = (recorded: readonly EventEnvelope[]): void => {
    if (stopped || !recorded.some((e) => BROKER_FILE_EVENTS.has(e.type))) return;
    const now = performance.now();
    const paused = now - lastAppend >= QUIET_MS;
    pendingSince ??= now;
    lastAppend = now;
    if (timer || immediate) return;
    burstStart = now;
    if (paused) {
      immediate = setImmediate(() => { immediate = null; run(); });
      return;
    }
    timer = setTimeout(fire, Math.min(QUIET_MS, deps.debounceMs));
  };

  return {
    prepare: () => worker.prepare(),
    async start() {
      unsubscribe = deps.store.onAppend(onAppend);
      worker.reportStartupDrift();
      return queueApply(true);
    },
    // An admin's retry also lifts the quarantine of content that failed open (issue 12).
    retry: () => queueApply(true, true),
    status,
    waitForGeneration(generation, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => {
          outcomeListeners.delete(l);
          reject(new Error(`generation ${generation} not applied within ${timeoutMs} ms (status ${JSON.stringify(status())})`));
        }, timeoutMs);
        const l = (o: ApplyOutcome): void => {
          if (o.generation < generation) return;
          clearTimeout(t);
          outcomeListeners.delete(l);
          resolve(o);
        };
        outcomeListeners.add(l);
      });
    },
    checkEnforcement: (reason) => serial(async () => {
      if (stopped) return null;
      const r = await worker.checkEnforcement(reason);
      try { deps.onStatus?.(status()); } catch { /* ignore */ }
      return r;
    }),
    fileChanged: async (path) => {
      const again = await serial(async () => !stopped && await worker.fileChanged(path));
      if (again) await queueApply(false);
    },
    brokerExited: (code) => serial(async () => {
      if (!stopped) worker.brokerExited(code);
    }),
    foreignFiles: () => worker.foreignNow(),
    brokerRestarted: async () => {
      // After an apply that failed because of its files, the broker restarted on the restored
      // ones: prove those, and leave the change to the next change or an explicit retry (a file
      // that makes the broker exit, as 2.1 does on a bad reload, must not become a restart loop).
      // An apply that failed only because the broker was down is simply applied now.
      if (status().state === 'failed' && lastOutcome?.retryable !== true) {
        await serial(() => worker.checkEnforcement('broker restarted'));
        return null;
      }
      return queueApply(true);
    },
    onOutcome(listener) {
      outcomeListeners.add(listener);
      return () => { outcomeListeners.delete(listener); };
    },
    stats: () => worker.stats(),
    async stop() {
      stopped = true;
      if (timer) { clearTimeout(timer); timer = null; }
      if (immediate) { clearImmediate(immediate); immediate = null; }
      if (errorRetryTimer) { clearTimeout(errorRetryTimer); errorRetryTimer = null; }
      unsubscribe?.();
      await chain;
    },
  };
};
