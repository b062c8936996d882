/**
 * Supervised mode: the broker reads its password_file and acl_file through ONE symlink,
 * `<broker dir>/live` → `pairs/<id>`, so the pair switches as one (issue 12). MCM keeps writing
 * its files at their usual paths (drift watching and the last-known-good restore work on those);
 * publishing hard-links both into a fresh `pairs/<id>` directory and renames a new symlink over
 * `live` (rename(2) is atomic). A SIGHUP from outside, at any moment of an apply, makes the broker
 * open either the old pair or the new one: never the new ACL with the old password file. Mosquitto
 * 2.0.11 opens the files by path on every reload (`fopen`, reference §3.1), so it follows the
 * symlink anew each time (checked in tests/adapters/apply-pair-switch.test.ts).
 *
 * Hard links, not copies: an ACL-only change must not copy a megabyte password file (issue 14).
 * They share the inode, so the mode and owner MCM set on its write (readable by the broker's user,
 * reference §4) are the pair's too. Across file systems (a configured password_file elsewhere) a
 * link fails and the file is copied with the same mode and owner.
 */
import { randomBytes } from 'node:crypto';
import {
  chmodSync, chownSync, closeSync, copyFileSync, existsSync, fsyncSync, linkSync, lstatSync, mkdirSync, openSync, readdirSync,
  renameSync, rmSync, statSync, symlinkSync,
} from 'node:fs';
import { dirname, join } from 'node:path';

/** The names inside a pair directory; mosquitto.conf names `<live>/passwd` and `<live>/acl`. */
export const PAIR_NAMES = { password_file: 'passwd', acl_file: 'acl' } as const;

export type PairSwitch = Readonly<{
  /** The symlink the broker reads through. */
  live: string;
  /** Paths mosquitto.conf names. */
  passwordPath: string;
  aclPath: string;
  /**
   * Makes `live` point at a pair holding exactly the files now at `sources` (same inodes). A
   * no-op when it already does. Returns true when it switched.
   */
  publish(sources: Readonly<{ password_file: string; acl_file: string }>): boolean;
}>;

const sameInode = (a: string, b: string): boolean => {
  try {
    const x = statSync(a);
    const y = statSync(b);
    return x.ino === y.ino && x.dev === y.dev;
  } catch {
    return false;
  }
};

const fsyncDir = (dir: string): void => {
  let fd: number | null = null;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch { /* not every file system lets a directory be fsynced */ } finally {
    if (fd !== null) closeSync(fd);
  }
};

/** A directory the broker's user can traverse like `like` (same group, mode at most 0750). */
const makeDir = (path: string, like: string): void => {
  mkdirSync(path, { recursive: true, mode: 0o750 });
  const st = statSync(like);
  chmodSync(path, st.mode & 0o750);
  if (process.getuid?.() === 0) chownSync(path, st.uid, st.gid);
};

const linkOrCopy = (from: string, to: string): void => {
  try {
    linkSync(from, to);
  } catch {
    copyFileSync(from, to);
    const st = statSync(from);
    chmodSync(to, st.mode & 0o777);
    if (process.getuid?.() === 0) chownSync(to, st.uid, st.gid);
  }
};

export const createPairSwitch = (live: string): PairSwitch => {
  const root = dirname(live);
  const pairs = join(root, 'pairs');
  const passwordPath = join(live, PAIR_NAMES.password_file);
  const aclPath = join(live, PAIR_NAMES.acl_file);
  return {
    live,
    passwordPath,
    aclPath,
    publish(sources) {
      if (sameInode(passwordPath, sources.password_file) && sameInode(aclPath, sources.acl_file)) return false;
      // Nothing to pair yet (a file missing): leave `live` as it is; the broker refuses a missing file at start anyway.
      if (!existsSync(sources.password_file) || !existsSync(sources.acl_file)) return false;
      makeDir(pairs, root);
      const id = `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
      const dir = join(pairs, id);
      makeDir(dir, root);
      linkOrCopy(sources.password_file, join(dir, PAIR_NAMES.password_file));
      linkOrCopy(sources.acl_file, join(dir, PAIR_NAMES.acl_file));
      fsyncDir(dir);
      // A real directory at `live` (never MCM's layout) cannot be renamed over by a symlink.
      try { if (lstatSync(live).isDirectory()) rmSync(live, { recursive: true, force: true }); } catch { /* absent */ }
      const tmp = join(root, `.live-${id}.tmp`);
      symlinkSync(join('pairs', id), tmp);
      renameSync(tmp, live);
      fsyncDir(root);
      // Earlier pairs: a broker that opened one keeps its descriptor; nothing resolves to them now.
      for (const old of readdirSync(pairs)) if (old !== id) rmSync(join(pairs, old), { recursive: true, force: true });
      for (const stale of readdirSync(root)) if (stale.startsWith('.live-') && stale.endsWith('.tmp')) rmSync(join(root, stale), { force: true });
      return true;
    },
  };
};
