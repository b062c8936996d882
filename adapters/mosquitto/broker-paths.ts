/**
 * Where the broker's files are, once its directory is placed (broker-dir.ts): the password and
 * ACL files (configured paths win), and in that directory mosquitto.conf, persistence and the
 * supervised pid file. And the data dir that holds it, prepared for the broker's user.
 */
import { chownSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Config } from '../config/config.ts';
import { isRoot, type BrokerAccount } from './permissions.ts';

export type BrokerPaths = { brokerDir: string; passwordFile: string; aclFile: string; confPath: string; persistenceDir: string; pidFile: string };

export const brokerPaths = (config: Config, brokerDir: string): BrokerPaths => {
  return {
    brokerDir,
    passwordFile: config.mosquitto.password_file ? resolve(config.mosquitto.password_file) : join(brokerDir, 'passwd'),
    aclFile: config.mosquitto.acl_file ? resolve(config.mosquitto.acl_file) : join(brokerDir, 'acl'),
    confPath: join(brokerDir, 'mosquitto.conf'),
    persistenceDir: join(brokerDir, 'persistence'),
    pidFile: join(brokerDir, 'supervised.pid'),
  };
};

/**
 * The data dir itself: created 0750 (group of the broker's user when root, so it can reach
 * `<data>/mosquitto`); an existing one is left as it is and checked (reference §4).
 */
export const prepareDataDir = (dataDir: string, account: BrokerAccount | null): void => {
  mkdirSync(dataDir, { recursive: true, mode: 0o750 });
  // Reachability is placeBrokerDir's question: an unreachable data dir moves the broker's files.
  if (account && isRoot()) {
    try { chownSync(dataDir, -1, account.gid); } catch { /* the broker dir is placed elsewhere if need be */ }
  }
};
