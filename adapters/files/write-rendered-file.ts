/**
 * Atomic replace of a rendered broker file with its mode and owner set BEFORE the rename, so the
 * broker (which may read it as user `mosquitto`, reference §4) never sees the new content with the
 * wrong permissions: temp file in the same directory, fchmod/fchown, fsync, rename, directory
 * fsync (reference §1.4 recommendation, §3.4 rule 2).
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fchmodSync, fchownSync, fsyncSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { FileOwnership } from '../mosquitto/permissions.ts';

/** Temp files start with this so watchers can ignore them. */
export const isTempName = (name: string): boolean => name.startsWith('.') && name.endsWith('.tmp');

export const writeRenderedFile = (target: string, content: string, own: FileOwnership): void => {
  const dir = dirname(target);
  const tmp = join(dir, `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(tmp, 'wx', own.mode);
  try {
    fchmodSync(fd, own.mode); // the umask may have narrowed the mode given to open
    if (own.uid !== undefined || own.gid !== undefined) fchownSync(fd, own.uid ?? -1, own.gid ?? -1);
    writeSync(fd, Buffer.from(content, 'utf8'));
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    try { unlinkSync(tmp); } catch { /* already gone */ }
    throw e;
  }
  closeSync(fd);
  try {
    renameSync(tmp, target);
  } catch (e) {
    try { unlinkSync(tmp); } catch { /* already gone */ }
    throw e;
  }
  const dfd = openSync(dir, 'r');
  try { fsyncSync(dfd); } finally { closeSync(dfd); }
};

/** The file's text, or null when it does not exist or cannot be read. */
export const readTextOrNull = (path: string): string | null => {
  try { return readFileSync(path, 'utf8'); } catch { return null; }
};

/**
 * Ownership for an operator's existing file (external mode): keep its mode and owner ("owner
 * preserved", DESIGN §6); a new file gets 0640.
 */
export const preservedOwnership = (path: string, fallback: FileOwnership = { mode: 0o640 }): FileOwnership => {
  try {
    const st = statSync(path);
    // Only root can give a file to someone else; anyone else keeps the mode and owns the result.
    return process.getuid?.() === 0 ? { mode: st.mode & 0o777, uid: st.uid, gid: st.gid } : { mode: st.mode & 0o777 };
  } catch {
    return fallback;
  }
};
