/**
 * Atomic replace of a rendered broker file with its mode and owner set BEFORE the rename, so the
 * broker (which may read it as user `mosquitto`, reference §4) never sees the new content with the
 * wrong permissions: temp file in the same directory, fchmod/fchown, fsync, rename, directory
 * fsync (reference §1.4 recommendation, §3.4 rule 2).
 */
import { readFileSync, statSync } from 'node:fs';
import type { FileOwnership } from '../mosquitto/permissions.ts';
import { writeFileAtomicSync } from './atomic-write-sync.ts';

export { isTempName, removeStaleTempFiles } from './atomic-write-sync.ts';

export const writeRenderedFile = (target: string, content: string, own: FileOwnership): void =>
  writeFileAtomicSync(target, content, own.mode, own);

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
