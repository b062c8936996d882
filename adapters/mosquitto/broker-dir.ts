/**
 * Where the supervised broker's files live. Normally `<data_dir>/mosquitto`. But a mosquitto
 * started as root drops to its own user before reading its files, and that user must be able to
 * search every directory above them (reference §4): a checkout in /root (0700) holds a data dir no
 * broker can reach, and `npm start` stopped there ("mosquitto cannot reach /root"). Then the
 * files go to a directory MCM makes that the broker's user can reach,
 * `/var/lib/mcm/brokers/<12 hex of sha256(data dir)>`, and `<data_dir>/mosquitto` becomes a
 * symlink to it, so every path MCM, the CLI and doctor use stays the same.
 */
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readlinkSync, renameSync, symlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { assertReachable, hasAccess, isRoot, type BrokerAccount } from './permissions.ts';

export const FALLBACK_BROKER_ROOT = '/var/lib/mcm/brokers';

/** True when `account` can search every directory down to `dir` (the ones that exist). */
export const reachableBy = (dir: string, account: BrokerAccount): boolean => {
  for (let d = resolve(dir); ; d = dirname(d)) {
    if (existsSync(d) && !hasAccess(d, account, 1)) return false;
    if (dirname(d) === d) return true;
  }
};

export type PlacedBrokerDir = Readonly<{
  /** The real directory of the broker's files (what mosquitto.conf names). */
  dir: string;
  /** Set when the files live outside the data dir: the reason, for the log. */
  moved: string | null;
}>;

export const placeBrokerDir = (dataDir: string, account: BrokerAccount | null, fallbackRoot: string = FALLBACK_BROKER_ROOT): PlacedBrokerDir => {
  const link = join(dataDir, 'mosquitto');
  if (account === null || !isRoot() || reachableBy(dataDir, account)) return { dir: link, moved: null };
  const target = join(fallbackRoot, createHash('sha256').update(resolve(dataDir)).digest('hex').slice(0, 12));
  // Every directory on the way must be searchable by the broker's user (0755 for the ones we make).
  mkdirSync(fallbackRoot, { recursive: true, mode: 0o755 });
  assertReachable(fallbackRoot, account, `make ${fallbackRoot} reachable, or set MCM_DATA_DIR to a directory the broker's user can reach`);
  let present = false;
  try { present = lstatSync(link) !== undefined; } catch { present = false; }
  if (present) {
    const st = lstatSync(link);
    if (st.isSymbolicLink()) {
      if (resolve(dataDir, readlinkSync(link)) !== target) throw new Error(`${link} is a symlink to ${readlinkSync(link)}, not to ${target}: remove it and start again`);
    } else if (st.isDirectory()) {
      // Files from an earlier start (or a failed one) move with it.
      if (existsSync(target)) throw new Error(`both ${link} and ${target} exist: keep one (mosquitto's user cannot reach ${dataDir})`);
      renameSync(link, target);
      symlinkSync(target, link);
    } else {
      throw new Error(`${link} is neither a directory nor a symlink`);
    }
  } else {
    mkdirSync(target, { recursive: true, mode: 0o750 });
    symlinkSync(target, link);
  }
  mkdirSync(target, { recursive: true, mode: 0o750 });
  return {
    dir: target,
    moved: `mosquitto (user ${account.user}) cannot reach ${dataDir}: its files live in ${target} (${link} links there)`,
  };
};
