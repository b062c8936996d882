/**
 * Who reads the broker's files, and can they? Mosquitto started as root drops to the `user`
 * option (default `mosquitto`, `nobody` if that account is missing) right after parsing its
 * config and BEFORE reading the password and ACL files; reloads read as that user too, and every
 * parent directory must be searchable by it (reference §4).
 */
import { chmodSync, chownSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

export type BrokerAccount = Readonly<{ user: string; uid: number; gid: number; groups: readonly number[] }>;

const readLines = (path: string): string[] => {
  try { return readFileSync(path, 'utf8').split('\n'); } catch { return []; }
};

/** Looks `name` up in /etc/passwd and /etc/group (no NSS: the distribution package creates local accounts). */
export const lookupAccount = (name: string): BrokerAccount | null => {
  const pw = readLines('/etc/passwd').map((l) => l.split(':')).find((f) => f[0] === name);
  if (!pw) return null;
  const uid = Number(pw[2]);
  const gid = Number(pw[3]);
  const groups = readLines('/etc/group').map((l) => l.split(':'))
    .filter((f) => f[2] !== undefined && (Number(f[2]) === gid || (f[3] ?? '').split(',').includes(name)))
    .map((f) => Number(f[2]));
  return { user: name, uid, gid, groups: [...new Set([gid, ...groups])] };
};

export const lookupGroupId = (name: string): number | null => {
  const g = readLines('/etc/group').map((l) => l.split(':')).find((f) => f[0] === name);
  return g && g[2] !== undefined ? Number(g[2]) : null;
};

/** The account a root-started mosquitto switches to (reference §4): `mosquitto`, else `nobody`. */
export const brokerAccountWhenRoot = (): BrokerAccount | null => lookupAccount('mosquitto') ?? lookupAccount('nobody');

export const isRoot = (): boolean => process.getuid?.() === 0;

/** True when `account` has permission bit `bit` (4 r, 2 w, 1 x) on `path` by the classic owner/group/other rule. */
export const hasAccess = (path: string, account: BrokerAccount, bit: 1 | 2 | 4): boolean => {
  const st = statSync(path);
  if (account.uid === 0) return true;
  if (st.uid === account.uid) return ((st.mode >> 6) & bit) !== 0;
  if (account.groups.includes(st.gid)) return ((st.mode >> 3) & bit) !== 0;
  return (st.mode & bit) !== 0;
};

/**
 * Throws a message naming the first directory on the way to `dir` that `account` cannot search,
 * with the fix (reference §4: each parent directory must be searchable by the broker's user).
 */
export const assertReachable = (dir: string, account: BrokerAccount, hint = 'set MCM_DATA_DIR to a directory it can reach'): void => {
  const chain: string[] = [];
  for (let d = resolve(dir); ; d = dirname(d)) {
    chain.unshift(d);
    if (dirname(d) === d) break;
  }
  for (const d of chain) {
    if (!hasAccess(d, account, 1)) {
      throw new Error(`mosquitto (user ${account.user}) cannot reach ${d}: chmod o+x ${d} or ${hint}`);
    }
  }
};

export type BrokerDirs = Readonly<{ dir: string; persistenceDir: string }>;

/**
 * Creates the supervised broker's directories. As root: the files' dir 0750 group of the broker
 * user (it reads, never writes there) and the persistence dir owned by the broker user (it saves
 * mosquitto.db there). Otherwise the broker runs as us: 0700.
 */
export const prepareBrokerDirs = (dirs: BrokerDirs, account: BrokerAccount | null): void => {
  mkdirSync(dirs.dir, { recursive: true, mode: 0o750 });
  mkdirSync(dirs.persistenceDir, { recursive: true, mode: 0o750 });
  if (account && isRoot()) {
    chmodSync(dirs.dir, 0o750);
    chownSync(dirs.dir, 0, account.gid);
    chmodSync(dirs.persistenceDir, 0o750);
    chownSync(dirs.persistenceDir, account.uid, account.gid);
    assertReachable(dirs.dir, account);
    if (!hasAccess(dirs.dir, account, 4)) throw new Error(`mosquitto (user ${account.user}) cannot read ${dirs.dir}`);
    if (!hasAccess(dirs.persistenceDir, account, 2)) {
      throw new Error(`mosquitto (user ${account.user}) cannot write its persistence directory ${dirs.persistenceDir}`);
    }
  } else {
    chmodSync(dirs.dir, 0o700);
    chmodSync(dirs.persistenceDir, 0o700);
  }
};

/** Mode and owner for a rendered file the broker must read. */
export type FileOwnership = Readonly<{ mode: number; uid?: number; gid?: number }>;

export const supervisedFileOwnership = (account: BrokerAccount | null): FileOwnership =>
  account && isRoot() ? { mode: 0o640, uid: 0, gid: account.gid } : { mode: 0o600 };
