/**
 * Atomic replace (reference §1.4, §3.4 rule 2): write a temp file in the same directory with its
 * mode (and owner, when given) set BEFORE the rename, fsync it, rename it over the target, fsync
 * the directory. A reader (the broker on SIGHUP, possibly as user `mosquitto`, reference §4) sees
 * the old file or the new one, never a partial one or one with the wrong permissions.
 */
import { closeSync, fchmodSync, fchownSync, fsyncSync, openSync, readdirSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';

export type Owner = Readonly<{ uid?: number | undefined; gid?: number | undefined }>;

/** Temp files start with '.' and end with '.tmp' so watchers can ignore them. */
export const isTempName = (name: string): boolean => name.startsWith('.') && name.endsWith('.tmp');

/**
 * Removes the temp files that writes of `target` interrupted by a crash left beside it
 * (`.<name>.<12 hex>.tmp`); returns their paths. Only for when no write of `target` can be in
 * progress (a server's start: one server per data dir).
 */
export const removeStaleTempFiles = (target: string): string[] => {
  const dir = dirname(target);
  const prefix = `.${basename(target)}.`;
  let names: string[];
  try { names = readdirSync(dir); } catch { return []; }
  const removed: string[] = [];
  for (const name of names) {
    if (!name.startsWith(prefix) || !/^[0-9a-f]{12}\.tmp$/.test(name.slice(prefix.length))) continue;
    try { unlinkSync(join(dir, name)); removed.push(join(dir, name)); } catch { /* gone, or not ours to remove */ }
  }
  return removed;
};

export const writeFileAtomicSync = (target: string, content: Buffer | string, mode: number, owner: Owner = {}): void => {
  const dir = dirname(target);
  const tmp = join(dir, `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(tmp, 'wx', mode);
  try {
    fchmodSync(fd, mode); // the umask may have narrowed the mode given to open
    if (owner.uid !== undefined || owner.gid !== undefined) fchownSync(fd, owner.uid ?? -1, owner.gid ?? -1);
    writeSync(fd, typeof content === 'string' ? Buffer.from(content, 'utf8') : content);
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
