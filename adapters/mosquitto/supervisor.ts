/**
 * Supervised mode (DESIGN §6): MCM runs `mosquitto -c <generated conf>` as a child, reloads it
 * with SIGHUP, restarts it with backoff when it dies, keeps its log lines, and stops it on
 * shutdown. The child's pid goes to a pid file so a broker orphaned by a killed MCM is found and
 * stopped at the next start instead of holding the port.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpuWatch } from './process-cpu.ts';
import { createBrokerLog, type BrokerLog } from './broker-log.ts';

export type SupervisorLogger = Readonly<{
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}>;

export type SupervisorOptions = Readonly<{
  binary: string;
  confPath: string;
  host: string;
  port: number;
  /** Where the child's pid is kept between runs. */
  pidFile: string;
  logger?: SupervisorLogger;
  log?: BrokerLog;
  /** First restart delay; doubles up to maxMs, reset after the broker stayed up for stableMs. */
  backoff?: { initialMs?: number; maxMs?: number; stableMs?: number };
  startTimeoutMs?: number;
  /**
   * Awaited before each restart after an unexpected exit: the apply loop puts the last-known-good
   * files back first when the broker exited because of its files (2.1 exits with code 3 when a
   * reload meets a bad file and refuses the same file at start, reference §8).
   */
  beforeRestart?: (exit: BrokerExit) => Promise<void>;
}>;

export type BrokerExit = Readonly<{ code: number | null; signal: string | null; expected: boolean }>;

export type Supervisor = {
  readonly log: BrokerLog;
  /** Spawns the broker and resolves once it listens; rejects with a clear message otherwise. */
  start(): Promise<void>;
  /** SIGHUP (reference §3.1). Throws when the broker is not running. */
  reload(): void;
  /**
   * Stops the broker and starts it again on the files now on disk, for a mosquitto.conf change a
   * reload cannot apply (listeners, bridges, several limits; reference §3.2). Rejects with the
   * broker's own words when it does not come up (e.g. a value it refuses at start, exit 3); no
   * automatic restart follows then: the caller puts the last good files back and restarts again.
   * `beforeStart` runs once the old process is gone and before the new one is spawned.
   */
  restart(beforeStart?: () => void | Promise<void>): Promise<void>;
  isUp(): boolean;
  pid(): number | null;
  restarts(): number;
  /** How the broker last exited (null while it never did). */
  lastExit(): BrokerExit | null;
  /**
   * Called after every successful (re)start, including the first. `planned`: a restart() for a
   * configuration change, which its caller confirms itself (no re-apply needed).
   */
  onStarted(listener: (info: { restarts: number; pid: number; planned?: boolean }) => void): () => void;
  onExit(listener: (exit: BrokerExit) => void): () => void;
  stop(): Promise<void>;
};

const noopLogger: SupervisorLogger = { info() {}, warn() {}, error() {} };

export const portInUseMessage = (host: string, port: number): string =>
  `port ${port} on ${host} is already in use (another mosquitto, e.g. the distribution's service?): ` +
  'set MCM_MQTT_PORT (or mqtt.port) to a free port, or stop the other broker';

/** Resolves when host:port can be bound now; rejects with the MCM_MQTT_PORT message when it is taken. */
export const assertPortFree = (host: string, port: number): Promise<void> =>
  new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', (e: NodeJS.ErrnoException) => {
      reject(e.code === 'EADDRINUSE' ? new Error(portInUseMessage(host, port)) : e);
    });
    srv.listen({ host, port, exclusive: true }, () => srv.close(() => resolve()));
  });

const processCmdline = (pid: number): string | null => {
  try { return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' '); } catch { return null; }
};

/**
 * True while `pid` runs. An orphan that exited stays a zombie until init reaps it, and kill(pid, 0)
 * still succeeds on a zombie: its state in /proc/<pid>/stat ('Z') says it is gone (and its port free).
 */
export const isAlive = (pid: number): boolean => {
  try { process.kill(pid, 0); } catch { return false; }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "<pid> (<comm>) <state> …": comm may hold spaces or parentheses, so split at the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc (not Linux): trust kill(0)
  }
};

/** However busy the broker is, a start takes no longer than this. */
const MAX_START_MS = 15 * 60_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Stops a broker left behind by an MCM that was killed: only the pid from our own pid file, and
 * only when that process is still `mosquitto -c <our conf>` (pids get reused).
 */
export const stopOrphan = async (pidFile: string, confPath: string, logger: SupervisorLogger = noopLogger): Promise<boolean> => {
  let pid: number;
  try { pid = Number(readFileSync(pidFile, 'utf8').trim()); } catch { return false; }
  if (!Number.isInteger(pid) || pid <= 1) return false;
  const cmd = processCmdline(pid);
  if (cmd === null || !cmd.includes('mosquitto') || !cmd.includes(confPath)) return false;
  logger.warn({ broker_pid: pid }, 'stopping a supervised mosquitto left over from a previous run');
  try { process.kill(pid, 'SIGTERM'); } catch { return false; }
  for (let i = 0; i < 100 && isAlive(pid); i++) await sleep(50);
  if (isAlive(pid)) {
    try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    for (let i = 0; i < 40 && isAlive(pid); i++) await sleep(50);
  }
  return true;
};

export const createSupervisor = (opts: SupervisorOptions): Supervisor => {
  const logger = opts.logger ?? noopLogger;
  const log = opts.log ?? createBrokerLog();
  const initialMs = opts.backoff?.initialMs ?? 250;
  const maxMs = opts.backoff?.maxMs ?? 10_000;
  const stableMs = opts.backoff?.stableMs ?? 30_000;
  const startTimeoutMs = opts.startTimeoutMs ?? 10_000;
  const started = new Set<(info: { restarts: number; pid: number; planned?: boolean }) => void>();
  const exited = new Set<(exit: BrokerExit) => void>();

  let child: ChildProcess | null = null;
  let up = false;
  let stopping = false;
  let restartCount = 0;
  let failures = 0;
  let upSince = 0;
  let restartTimer: NodeJS.Timeout | null = null;
  let exitPromise: Promise<void> = Promise.resolve();
  let lastExit: BrokerExit | null = null;

  const spawnOnce = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const mark = log.mark();
      const c = spawn(opts.binary, ['-c', opts.confPath], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      child = c;
      // Recorded at once, not when the broker reports running: an MCM killed while the broker
      // starts would otherwise leave a broker no pid file names, holding the port at the next
      // start (stopOrphan checks the command line, so a dead or reused pid is harmless).
      if (c.pid !== undefined) {
        try { writeFileSync(opts.pidFile, `${c.pid}\n`, { mode: 0o600 }); } catch (e) {
          logger.warn({ err: (e as Error).message, pidFile: opts.pidFile }, 'cannot write the broker pid file');
        }
      }
      let settled = false;
      const settle = (err: Error | null): void => {
        if (settled) return;
        settled = true;
        clearInterval(timer);
        unsubscribe();
        if (err) reject(err); else resolve();
      };
      const onData = (b: Buffer): void => log.write(b.toString('utf8'));
      c.stdout?.on('data', onData);
      c.stderr?.on('data', onData);
      const unsubscribe = log.onLine((line) => {
        // "mosquitto version 2.0.11 running" follows the listeners being opened.
        if (/^mosquitto version \S+ running/.test(line.message)) {
          up = true;
          upSince = Date.now();
          settle(null);
        }
      });
      // startTimeoutMs without progress: a broker loading a big acl_file uses a core all along
      // and prints nothing until it runs (process-cpu.ts); one that idles that long is stuck.
      const began = Date.now();
      let progress = began;
      const cpu = cpuWatch(() => c.pid ?? null);
      const timer = setInterval(() => {
        const now = Date.now();
        if (cpu.busySince()) progress = now;
        if (now - progress < startTimeoutMs && now - began < MAX_START_MS) return;
        settle(new Error(`mosquitto did not start within ${now - began} ms${now - began >= MAX_START_MS ? '' : ` (${startTimeoutMs} ms without using the CPU)`}:\n${log.since(mark).map((l) => l.raw).join('\n')}`));
        c.kill('SIGKILL');
      }, Math.min(1000, startTimeoutMs));
      c.once('error', (e) => settle(new Error(`cannot run mosquitto (${opts.binary}): ${e.message}`)));
      exitPromise = new Promise<void>((done) => {
        c.once('exit', (code, signal) => {
          const wasUp = up;
          up = false;
          if (child === c) child = null;
          const lines = log.since(mark).map((l) => l.raw);
          if (!settled) {
            const inUse = lines.some((l) => /Address already in use/i.test(l));
            settle(new Error(inUse
              ? portInUseMessage(opts.host, opts.port)
              : `mosquitto exited during start (code ${code}, signal ${signal}):\n${lines.slice(-20).join('\n')}`));
          }
          const expected = stopping;
          lastExit = { code, signal, expected };
          for (const l of [...exited]) l({ code, signal, expected });
          if (!expected && wasUp) {
            logger.error({ code, signal }, 'supervised mosquitto exited; restarting');
            const exit = lastExit;
            if (opts.beforeRestart) {
              opts.beforeRestart(exit).catch((e: Error) => logger.error({ err: e.message }, 'preparing the broker restart failed')).finally(scheduleRestart);
            } else {
              scheduleRestart();
            }
          }
          done();
        });
      });
    });

  const scheduleRestart = (): void => {
    // `up`: a planned restart (restart()) brought it back meanwhile; a second one would fight for the port.
    if (stopping || restartTimer || up) return;
    if (upSince && Date.now() - upSince > stableMs) failures = 0;
    const delay = Math.min(maxMs, initialMs * 2 ** failures);
    failures++;
    logger.warn({ delayMs: delay, attempt: failures }, 'restarting supervised mosquitto after a delay');
    restartTimer = setTimeout(() => {
      restartTimer = null;
      if (stopping || up) return;
      restartCount++;
      spawnOnce().then(
        () => {
          logger.info({ restarts: restartCount, broker_pid: child?.pid }, 'supervised mosquitto restarted');
          for (const l of [...started]) l({ restarts: restartCount, pid: child?.pid ?? -1 });
        },
        (e: Error) => {
          logger.error({ err: e.message, attempt: failures }, 'supervised mosquitto failed to restart');
          scheduleRestart();
        },
      );
    }, delay);
  };

  return {
    log,
    async start() {
      stopping = false;
      await stopOrphan(opts.pidFile, opts.confPath, logger);
      await assertPortFree(opts.host, opts.port);
      await spawnOnce();
      logger.info({ broker_pid: child?.pid, port: opts.port }, 'supervised mosquitto started');
      for (const l of [...started]) l({ restarts: restartCount, pid: child?.pid ?? -1 });
    },
    reload() {
      if (!child || !up) throw new Error('the supervised mosquitto is not running');
      // A broker killed a moment ago is a zombie until its exit event is handled: a SIGHUP would
      // "succeed", the probe then fail, and the apply be blamed on its files instead of retried
      // once the broker is back.
      if (child.pid === undefined || !isAlive(child.pid)) throw new Error('the supervised mosquitto is not running (it has just exited)');
      child.kill('SIGHUP');
    },
    async restart(beforeStart) {
      if (restartTimer) { clearTimeout(restartTimer); restartTimer = null; }
      stopping = true;
      const c = child;
      if (c && c.exitCode === null && c.signalCode === null) {
        c.kill('SIGTERM');
        const killer = setTimeout(() => c.kill('SIGKILL'), 5000);
        await exitPromise;
        clearTimeout(killer);
      }
      stopping = false;
      // While no broker runs: a file only read at start (the dynsec plugin's JSON) is written here.
      if (beforeStart) await beforeStart();
      restartCount++;
      await spawnOnce();
      logger.info({ restarts: restartCount, broker_pid: child?.pid }, 'supervised mosquitto restarted for a configuration change');
      for (const l of [...started]) l({ restarts: restartCount, pid: child?.pid ?? -1, planned: true });
    },
    isUp: () => up,
    pid: () => (up ? child?.pid ?? null : null),
    restarts: () => restartCount,
    lastExit: () => lastExit,
    onStarted(listener) {
      started.add(listener);
      return () => { started.delete(listener); };
    },
    onExit(listener) {
      exited.add(listener);
      return () => { exited.delete(listener); };
    },
    async stop() {
      stopping = true;
      if (restartTimer) { clearTimeout(restartTimer); restartTimer = null; }
      const c = child;
      if (c && c.exitCode === null && c.signalCode === null) {
        c.kill('SIGTERM');
        const killer = setTimeout(() => c.kill('SIGKILL'), 5000);
        await exitPromise;
        clearTimeout(killer);
      }
      try { rmSync(opts.pidFile, { force: true }); } catch { /* best effort */ }
    },
  };
};
