/**
 * The single-writer lock of a data dir (DESIGN §2.2 "one process, one writer"; §8: the CLI talks
 * to a running server through its API, and works on the data dir directly only when none runs).
 * `<data_dir>/server.lock` holds `{pid, url, started_at}` of the server that owns the data dir.
 *
 * The lock is taken by hard-linking a fully written temp file to the lock name: link(2) fails
 * with EEXIST like O_EXCL does, and a reader never sees a half-written lock. A lock whose pid is
 * dead is stale (the server crashed) and is replaced.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, linkSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { DomainError } from '../../core/errors.ts';

export const SERVER_LOCK_FILE = 'server.lock';

/** Codes raised by the lock (adapter-level, like HTTP_ERROR_CODES). Outside scripts depend on them. */
export const SERVER_LOCK_ERROR_CODES = {
  SERVER_RUNNING: 'MCM_ERR_SERVER_RUNNING',
  LOCK_UNREADABLE: 'MCM_ERR_SERVER_LOCK_UNREADABLE',
} as const;

export type ServerInfo = Readonly<{ pid: number; url: string }>;
export type ServerLockContent = Readonly<{ pid: number; url: string; started_at: string }>;
export type ServerLock = Readonly<{
  path: string;
  content(): ServerLockContent;
  /** Records the url once it is known (the HTTP port may be chosen at listen time); atomic for readers. */
  setUrl(url: string): void;
  release(): void;
}>;

export const serverLockPath = (dataDir: string): string => join(dataDir, SERVER_LOCK_FILE);

const errnoOf = (e: unknown): string | undefined => (e as NodeJS.ErrnoException).code;

/** The lock's content; null when there is no lock file, or it does not hold a lock (garbage). */
const readLock = (path: string): ServerLockContent | null => {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if (errnoOf(e) === 'ENOENT') return null;
    throw new DomainError(SERVER_LOCK_ERROR_CODES.LOCK_UNREADABLE,
      `cannot read ${path} (${errnoOf(e) ?? String(e)}), so whether an MCM server runs on this data dir is unknown: run mcm as the user that runs the server`,
      [{ path }]);
  }
  try {
    const v = JSON.parse(text) as Partial<ServerLockContent>;
    if (Number.isSafeInteger(v.pid) && (v.pid as number) > 0 && typeof v.url === 'string' && typeof v.started_at === 'string') {
      return { pid: v.pid as number, url: v.url, started_at: v.started_at };
    }
  } catch { /* fall through: not a lock MCM wrote */ }
  return null;
};

/**
 * True when the lock's process is alive. A lock naming this very process but written before it
 * started is a leftover of an earlier incarnation with the same pid (a container's pid 1 after
 * a restart), not a live holder.
 */
const holderAlive = (lock: ServerLockContent): boolean => {
  if (lock.pid === process.pid) return Date.parse(lock.started_at) >= Math.floor(performance.timeOrigin);
  try {
    process.kill(lock.pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to another user; it is alive all the same.
    return errnoOf(e) === 'EPERM';
  }
};

const running = (lock: ServerLockContent, path: string): DomainError =>
  new DomainError(SERVER_LOCK_ERROR_CODES.SERVER_RUNNING,
    `another MCM server (pid ${lock.pid}, ${lock.url}) is running on this data dir; stop it first (if pid ${lock.pid} is not an MCM server, remove ${path})`,
    [{ pid: lock.pid, url: lock.url, lock: path }]);

/** Creates `path` holding `text`, failing with EEXIST when it exists; never visible half-written. */
const createExclusive = (path: string, text: string): void => {
  const tmp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  writeFileSync(tmp, text, { mode: 0o644, flag: 'wx' });
  try {
    linkSync(tmp, path);
  } catch (e) {
    const code = errnoOf(e);
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw e;
    // A file system without hard links: O_EXCL, then write (a reader may briefly see it empty).
    const fd = openSync(path, 'wx', 0o644);
    try { writeSync(fd, text); } finally { closeSync(fd); }
  } finally {
    try { unlinkSync(tmp); } catch { /* already gone */ }
  }
};

/** `server.lock.<pid>.<hex>.tmp` of processes that are gone (killed between writing and linking). */
const removeDeadTempLocks = (dataDir: string): void => {
  let names: string[];
  try { names = readdirSync(dataDir); } catch { return; }
  for (const name of names) {
    const m = /^server\.lock\.(\d+)\.[0-9a-f]+\.tmp$/.exec(name);
    if (!m || Number(m[1]) === process.pid) continue;
    try { process.kill(Number(m[1]), 0); continue; } catch (e) { if (errnoOf(e) === 'EPERM') continue; }
    try { unlinkSync(join(dataDir, name)); } catch { /* gone already */ }
  }
};

/**
 * Takes the data dir for a server at `info.url`; throws MCM_ERR_SERVER_RUNNING when a live
 * process holds it. `release()` removes the lock if it is still this one (idempotent).
 */
export const acquireServerLock = (dataDir: string, info: ServerInfo): ServerLock => {
  const path = serverLockPath(dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o750 });
  removeDeadTempLocks(dataDir);
  const content: ServerLockContent = { pid: info.pid, url: info.url, started_at: new Date().toISOString() };
  const text = `${JSON.stringify(content)}\n`;
  // Each round either takes the lock, meets a live holder, or removes a stale lock; a few rounds
  // cover another process replacing the same stale lock at the same moment.
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      createExclusive(path, text);
    } catch (e) {
      if (errnoOf(e) !== 'EEXIST') throw e;
      const holder = readLock(path);
      if (holder !== null && holderAlive(holder)) throw running(holder, path);
      // Remove the stale lock only if it is still the one judged stale: another starting
      // server may have replaced it in between (the window left is a few microseconds).
      const again = readLock(path);
      if (again?.pid === holder?.pid && again?.started_at === holder?.started_at) {
        try { unlinkSync(path); } catch (u) { if (errnoOf(u) !== 'ENOENT') throw u; }
      }
      continue;
    }
    let current = content;
    let released = false;
    /** Still ours: a stale-lock breaker may have replaced it after a long pause of this process. */
    const ours = (): boolean => {
      let onDisk: ServerLockContent | null = null;
      try { onDisk = readLock(path); } catch { return false; }
      return onDisk !== null && onDisk.pid === current.pid && onDisk.started_at === current.started_at && onDisk.url === current.url;
    };
    return {
      path,
      content: () => current,
      setUrl: (url) => {
        if (released || !ours()) throw new Error(`${path} is no longer held by this process`);
        const next = { ...current, url };
        const tmp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
        writeFileSync(tmp, `${JSON.stringify(next)}\n`, { mode: 0o644, flag: 'wx' });
        renameSync(tmp, path);
        current = next;
      },
      release: () => {
        if (released) return;
        released = true;
        if (ours()) {
          try { unlinkSync(path); } catch { /* already gone */ }
        }
      },
    };
  }
  throw new Error(`could not take ${path}: it keeps being replaced by another process`);
};

/** The server running on this data dir, or null (no lock, a lock MCM did not write, or a dead pid). */
export const readServerInfo = (dataDir: string): ServerInfo | null => {
  const lock = readLock(serverLockPath(dataDir));
  return lock !== null && holderAlive(lock) ? { pid: lock.pid, url: lock.url } : null;
};

/** For work that must not run beside a server (two writers on one event log): throws MCM_ERR_SERVER_RUNNING. */
export const assertNoServer = (dataDir: string): void => {
  const path = serverLockPath(dataDir);
  const lock = readLock(path);
  if (lock !== null && holderAlive(lock)) {
    throw new DomainError(SERVER_LOCK_ERROR_CODES.SERVER_RUNNING,
      `an MCM server (pid ${lock.pid}, ${lock.url}) is running on this data dir: go through it, not around it (if pid ${lock.pid} is not an MCM server, remove ${path})`,
      [{ pid: lock.pid, url: lock.url, lock: path }]);
  }
};
