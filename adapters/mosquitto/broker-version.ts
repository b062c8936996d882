/**
 * The broker's version is data (DESIGN §10 "Broker versions"): detected, shown, and an input to
 * the renderers. Supervised: the binary says it (`mosquitto -h` prints `mosquitto version X.Y.Z`
 * and exits 3); external: the observer's retained `$SYS/broker/version` (reference §5).
 */
import { spawnSync } from 'node:child_process';
import { dirname } from 'node:path';
import type { BrokerLine } from '../../core/import/import-types.ts';

/** "2.0.11" from "mosquitto version 2.0.11" (or from "2.0.11"); null when there is none. */
export const parseBrokerVersion = (text: string | null | undefined): string | null =>
  /(?:mosquitto version |^)(\d+\.\d+(?:\.\d+)?)/m.exec(text ?? '')?.[1] ?? null;

/** The release line whose behaviour MCM follows: 2.0 (password_file/acl_file, fails open) or 2.1+ (plugins, exits). */
export const brokerLineOf = (version: string | null | undefined): BrokerLine => {
  const m = /^(\d+)\.(\d+)/.exec(version ?? '');
  if (!m) return null;
  const [major, minor] = [Number(m[1]), Number(m[2])];
  if (major === 2 && minor === 0) return '2.0';
  return major > 2 || (major === 2 && minor >= 1) ? '2.1' : null;
};

/** Runs `<binary> -h` (it exits 3 after printing its usage) and reads the version; null when it cannot. */
export const detectBinaryVersion = (binary: string, timeoutMs = 5000): string | null => {
  const r = spawnSync(binary, ['-h'], { encoding: 'utf8', timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.error) return null;
  return parseBrokerVersion(`${r.stdout ?? ''}\n${r.stderr ?? ''}`);
};

/**
 * Where 2.1's `mosquitto_password_file.so` and `mosquitto_acl_file.so` are when
 * `mosquitto.plugin_dir` is not set: the `lib` beside the binary's prefix (`/usr/sbin/mosquitto` →
 * `/usr/lib`, `/usr/local/sbin/mosquitto` → `/usr/local/lib`), as upstream's install puts them.
 */
export const defaultPluginDir = (binaryPath: string): string => {
  const prefix = dirname(dirname(binaryPath.startsWith('/') ? binaryPath : '/usr/sbin/mosquitto'));
  return `${prefix === '/' ? '' : prefix}/lib`;
};
