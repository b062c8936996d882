/**
 * Atomic replace (reference §1.4, §3.4 rule 2): write a temp file in the same directory with its
 * mode (and owner, when given) set BEFORE the rename, fsync it, rename it over the target, fsync
 * the directory. A reader (the broker on SIGHUP, possibly as user `mosquitto`, reference §4) sees
 * the old file or the new one, never a partial one or one with the wrong permissions.
 */
import { closeSync, fchmodSync, fchownSync, fstatSync, fsyncSync, openSync, readdirSync, readSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
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

/**
 * Writes all of `bytes`: write(2) may write fewer bytes than asked (a nearly full disk writes
 * what fits and says so by its count; only the next call fails with ENOSPC), so loop until done.
 */
const writeAll = (fd: number, bytes: Buffer): void => {
  let offset = 0;
  while (offset < bytes.length) {
    const n = writeSync(fd, bytes, offset, bytes.length - offset, offset);
    if (n <= 0) throw Object.assign(new Error(`short write: ${offset} of ${bytes.length} bytes written`), { code: 'EIO' });
    offset += n;
  }
};

/** The temp file's bytes must be exactly what was meant before it may replace the target. */
const verifyWritten = (fd: number, bytes: Buffer, tmp: string): void => {
  const size = fstatSync(fd).size;
  const back = Buffer.alloc(size);
  let read = 0;
  while (read < size) {
    const n = readSync(fd, back, read, size - read, read);
    if (n <= 0) break;
    read += n;
  }
  // Compared byte for byte (memcmp): hashing both sides cost more than the write (issue 14).
  if (size !== bytes.length || read !== size || !bytes.equals(back)) {
    const got = createHash('sha256').update(back.subarray(0, read)).digest('hex');
    const want = createHash('sha256').update(bytes).digest('hex');
    throw Object.assign(new Error(`${tmp} does not hold what was written (${size} of ${bytes.length} bytes, sha256 ${got.slice(0, 12)}… ≠ ${want.slice(0, 12)}…): not renamed over the live file`), { code: 'EIO' });
  }
};

export const writeFileAtomicSync = (target: string, content: Buffer | string, mode: number, owner: Owner = {}): void => {
  const dir = dirname(target);
  const tmp = join(dir, `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
  // Read back through the same descriptor to verify, so it is opened read-write.
  const fd = openSync(tmp, 'wx+', mode);
  try {
    fchmodSync(fd, mode); // the umask may have narrowed the mode given to open
    if (owner.uid !== undefined || owner.gid !== undefined) fchownSync(fd, owner.uid ?? -1, owner.gid ?? -1);
    const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    writeAll(fd, bytes);
    fsyncSync(fd);
    verifyWritten(fd, bytes, tmp);
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
