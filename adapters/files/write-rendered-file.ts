/**
 * Atomic replace of a rendered broker file with its mode and owner set BEFORE the rename, so the
 * broker (which may read it as user `mosquitto`, reference §4) never sees the new content with the
 * wrong permissions: temp file in the same directory, fchmod/fchown, fsync, rename, directory
 * fsync (reference §1.4 recommendation, §3.4 rule 2).
 */
import { createHash } from 'node:crypto';
import { closeSync, fchmodSync, fsyncSync, openSync, readFileSync, readSync, statSync, writeSync } from 'node:fs';
import type { FileOwnership } from '../mosquitto/permissions.ts';
import { writeFileAtomicSync } from './atomic-write-sync.ts';

export { isTempName, removeStaleTempFiles } from './atomic-write-sync.ts';

export const writeRenderedFile = (target: string, content: string, own: FileOwnership): void =>
  writeFileAtomicSync(target, content, own.mode, own);

/**
 * Decodes like readFileSync(path, 'utf8') (invalid sequences become U+FFFD) but keeps a leading
 * byte order mark, which the checkers must see (reference §1.1 item 9, §2.1). It is also much
 * faster on megabyte files: every apply reads the broker files back (issue 14).
 */
const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });

/**
 * One read buffer, reused: a fresh megabyte buffer per read (readFileSync) costs the garbage
 * collector more than the read, and the apply reads both broker files on every change. Reads are
 * synchronous, so nothing else uses it meanwhile; it only grows (to the largest broker file).
 */
let pool: Buffer = Buffer.allocUnsafeSlow(1 << 16);

const readPooled = (path: string): string => {
  const fd = openSync(path, 'r');
  try {
    let n = 0;
    for (;;) {
      if (n === pool.length) {
        const bigger = Buffer.allocUnsafeSlow(pool.length * 2);
        pool.copy(bigger, 0, 0, n);
        pool = bigger;
      }
      const r = readSync(fd, pool, n, pool.length - n, null);
      if (r <= 0) break;
      n += r;
    }
    return utf8.decode(pool.subarray(0, n));
  } finally {
    closeSync(fd);
  }
};

/** The file's text, or null when it does not exist or cannot be read. */
export const readTextOrNull = (path: string): string | null => {
  try { return readPooled(path); } catch { return null; }
};

/** The broker's account as far as ownership needs it (adapters/mosquitto/permissions.ts BrokerAccount). */
export type BrokerReader = Readonly<{ uid: number; gid: number; groups: readonly number[] }>;

/**
 * Ownership for a rendered file at `path` (external mode; DESIGN §6, issue "never world-readable"):
 * never readable by "other", whatever the old file's mode, and still readable by the broker's
 * account (`mosquitto`, which a root-started broker reads as, reference §4):
 * - the broker owns the old file → it keeps owning it (0640);
 * - the broker is in the old file's group and that group could read it → 0640, same group;
 * - otherwise (it read through "other", e.g. root:root 0644) → 0640 with the broker's own group,
 *   when MCM may give it that group (root, or a member);
 * - no broker account known: group read → 0640 same group, else 0600.
 * Root keeps the old owner. A new file gets 0640 (root: with the broker's group).
 */
export const brokerFileOwnership = (path: string, broker: BrokerReader | number | null): FileOwnership => {
  // A bare gid (older callers): the broker's group, membership unknown.
  const reader: BrokerReader | null = typeof broker === 'number' ? { uid: -1, gid: broker, groups: [broker] } : broker;
  const root = process.getuid?.() === 0;
  const mayUse = (gid: number): boolean => root || gid === process.getgid?.() || (process.getgroups?.() ?? []).includes(gid);
  let st;
  try { st = statSync(path); } catch {
    return reader !== null && root ? { mode: 0o640, gid: reader.gid } : { mode: 0o640 };
  }
  const owner = root ? { uid: st.uid } : {};
  const groupReads = (st.mode & 0o040) !== 0;
  if (reader !== null) {
    if (st.uid === reader.uid) return { mode: 0o640, ...owner, ...(mayUse(st.gid) ? { gid: st.gid } : {}) };
    if (groupReads && reader.groups.includes(st.gid)) return { mode: 0o640, ...owner, ...(mayUse(st.gid) ? { gid: st.gid } : {}) };
    if (mayUse(reader.gid)) return { mode: 0o640, ...owner, gid: reader.gid };
  }
  if (groupReads) return { mode: 0o640, ...owner, ...(mayUse(st.gid) ? { gid: st.gid } : {}) };
  return { mode: 0o600, ...owner, ...(root ? { gid: st.gid } : {}) };
};

/** Suffix of the copy of a foreign file MCM keeps the first time it replaces it (DESIGN §10). */
export const PRE_MCM_SUFFIX = '.pre-mcm';

/**
 * Copies `path`'s current bytes to `<path>.pre-mcm`, mode 0600, created exclusively: an existing
 * copy is never overwritten (it is the operator's original). Returns the copy's path, or null when
 * one already existed. Throws on any other error: the original must be safe before it is replaced.
 */
export const keepOriginal = (path: string): string | null => {
  const bytes = readFileSync(path);
  const copy = `${path}${PRE_MCM_SUFFIX}`;
  let fd: number;
  try {
    fd = openSync(copy, 'wx', 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return null;
    throw e;
  }
  try {
    fchmodSync(fd, 0o600);
    writeSync(fd, bytes);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return copy;
};

/** sha256 of the file's bytes, or null when it cannot be read. */
export const fileSha256 = (path: string): string | null => {
  try { return createHash('sha256').update(readFileSync(path)).digest('hex'); } catch { return null; }
};
