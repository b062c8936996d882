/**
 * The rendered broker files (password_file, acl_file): MCM must be able to replace them (a temp
 * file in the same directory, then rename: it needs the directory, not just the file), and the
 * broker's user must be able to read them and search every directory above them (reference §4:
 * a root-started broker drops to `mosquitto` BEFORE reading them; an unreadable file is exit 13
 * at start and fail-open on reload, §3.4).
 */
import { accessSync, constants, existsSync, realpathSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Config } from '../config/config.ts';
import { brokerAccountWhenRoot, isRoot, lookupAccount, type BrokerAccount } from '../mosquitto/permissions.ts';
import { fail, pass, warn, type CheckResult } from './check-result.ts';

/** Where MCM writes the files: the configured paths, else <data_dir>/mosquitto/{passwd,acl} (adapters/main.ts). */
export const renderedFilePaths = (config: Config): { passwordFile: string; aclFile: string } => {
  // <data_dir>/mosquitto may be a symlink to where the broker's user can reach the files
  // (adapters/mosquitto/broker-dir.ts): judge the real place.
  const brokerDir = join(config.data_dir, 'mosquitto');
  let real = brokerDir;
  try { real = realpathSync(brokerDir); } catch { /* not there yet */ }
  return {
    passwordFile: config.mosquitto.password_file ? resolve(config.mosquitto.password_file) : join(real, 'passwd'),
    aclFile: config.mosquitto.acl_file ? resolve(config.mosquitto.acl_file) : join(real, 'acl'),
  };
};

/** The user the broker reads the files as, when it can be known from here; null = the user running MCM. */
const brokerReader = (config: Config): { account: BrokerAccount | null; known: boolean } => {
  if (config.mosquitto.mode === 'supervised') return { account: isRoot() ? brokerAccountWhenRoot() : null, known: true };
  const local = lookupAccount('mosquitto');
  return { account: local, known: local !== null };
};

type Mode = { uid: number; gid: number; mode: number };

/** The classic owner/group/other rule for permission bit 4 (read) or 1 (search). */
const allows = (st: Mode, a: BrokerAccount, bit: 4 | 1): boolean => {
  if (a.uid === 0) return true;
  if (st.uid === a.uid) return ((st.mode >> 6) & bit) !== 0;
  if (a.groups.includes(st.gid)) return ((st.mode >> 3) & bit) !== 0;
  return (st.mode & bit) !== 0;
};

/**
 * A supervised server started as root gives the data dir to the broker's group and creates
 * <data_dir>/mosquitto as root:<group> 0750 (adapters/main.ts, permissions.ts), so those are
 * judged as they will be, not as they are before the first start.
 */
const asServerLeavesIt = (d: string, st: Mode, a: BrokerAccount, config: Config): Mode => {
  if (config.mosquitto.mode !== 'supervised' || !isRoot()) return st;
  const dataDir = resolve(config.data_dir);
  if (d === dataDir) return { ...st, gid: a.gid };
  if (d === join(dataDir, 'mosquitto') || d.startsWith(`${join(dataDir, 'mosquitto')}/`)) return { uid: 0, gid: a.gid, mode: 0o750 };
  return st;
};

/** The first existing directory on the way to `dir` that `a` cannot search, or null. */
const unreachable = (dir: string, a: BrokerAccount, config: Config): string | null => {
  const chain: string[] = [];
  for (let d = resolve(dir); ; d = dirname(d)) {
    chain.unshift(d);
    if (dirname(d) === d) break;
  }
  for (const d of chain) {
    if (!existsSync(d)) return null;
    if (!allows(asServerLeavesIt(d, statSync(d), a, config), a, 1)) return d;
  }
  return null;
};

type FileProblem = { text: string; hint: string };

const checkOne = (label: string, path: string, config: Config): FileProblem | null => {
  const dir = dirname(path);
  let existing = dir;
  while (!existsSync(existing) && dirname(existing) !== existing) existing = dirname(existing);
  try {
    accessSync(existing, constants.W_OK | constants.X_OK);
  } catch {
    return {
      text: `${label}: MCM cannot write in ${existing} (it replaces ${path} by a rename in that directory)`,
      hint: `make ${dir} writable by the user running MCM (uid ${process.getuid?.() ?? '?'})`,
    };
  }
  const { account } = brokerReader(config);
  if (account === null) return null;
  const blocked = unreachable(dir, account, config);
  if (blocked) {
    return { text: `${label}: the broker's user ${account.user} cannot reach ${path} (${blocked} is not searchable)`, hint: `chmod o+x ${blocked}, or move the file` };
  }
  if (!existsSync(dir)) return null;
  // A file MCM has not written yet gets 0640, its owner, and the directory's group when the
  // directory is setgid (write-rendered-file.ts keeps an existing file's mode and owner).
  let st: Mode;
  if (existsSync(path)) st = statSync(path);
  else if (config.mosquitto.mode === 'supervised' && isRoot()) return null; // supervised root: root:<broker group> 0640
  else {
    const d = statSync(dir);
    st = { uid: process.getuid?.() ?? 0, gid: (d.mode & 0o2000) !== 0 ? d.gid : process.getgid?.() ?? 0, mode: 0o640 };
  }
  if (allows(st, account, 4)) return null;
  return {
    text: `${label}: the broker's user ${account.user} cannot read ${path}${existsSync(path) ? '' : ' once MCM creates it (0640, group of MCM\'s user)'}`,
    hint: existsSync(path)
      ? `chgrp ${account.user} ${path} && chmod 0640 ${path} (MCM keeps the mode and owner when it rewrites it)`
      : `chgrp ${account.user} ${dir} && chmod 2750 ${dir} (setgid: files created there get the broker's group)`,
  };
};

export const checkBrokerFiles = (config: Config): CheckResult => {
  const { passwordFile, aclFile } = renderedFilePaths(config);
  const problems = [checkOne('password_file', passwordFile, config), checkOne('acl_file', aclFile, config)].filter((p): p is FileProblem => p !== null);
  const { account, known } = brokerReader(config);
  if (problems.length === 0) {
    const reader = account ? `readable by the broker's user ${account.user}` : known ? 'the broker runs as the same user' : 'no local mosquitto account: cannot tell which user the broker reads them as';
    return pass('broker-files', `${passwordFile} and ${aclFile}: writable by MCM, ${reader}`);
  }
  const detail = problems.map((p) => p.text).join('; ');
  const hint = problems.map((p) => p.hint).join('; ');
  // In external mode the local `mosquitto` account may not be the broker's (a container): warn.
  const mcmCannotWrite = problems.some((p) => p.text.includes('MCM cannot write'));
  return config.mosquitto.mode === 'supervised' || mcmCannotWrite ? fail('broker-files', detail, hint) : warn('broker-files', detail, hint);
};
