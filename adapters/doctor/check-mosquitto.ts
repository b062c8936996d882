/**
 * The `mosquitto` binary and its version (reference §8). Supervised mode needs it; in external
 * mode the broker may run elsewhere, so a missing local binary is only noted, and a local one's
 * version is a hint about the broker rather than proof.
 */
import { spawnSync } from 'node:child_process';
import type { Config } from '../config/config.ts';
import { findExecutable } from '../config/defaults.ts';
import { fail, pass, skip, warn, type CheckResult } from './check-result.ts';

export type MosquittoVersion = Readonly<{ major: number; minor: number; patch: number; text: string }>;

/** `mosquitto -h` prints "mosquitto version 2.0.11" first (and exits non-zero). */
export const parseMosquittoVersion = (output: string): MosquittoVersion | null => {
  const m = /mosquitto version (\d+)\.(\d+)\.(\d+)/.exec(output);
  return m ? { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), text: `${m[1]}.${m[2]}.${m[3]}` } : null;
};

/** What an operator of this version should know (reference §3.4, §4, §8). */
export const versionNote = (v: MosquittoVersion): { ok: boolean; note: string } => {
  if (v.major < 2) return { ok: false, note: 'MCM needs Mosquitto 2.0 or later (1.x allows anonymous access by default and differs in reload behaviour)' };
  if (v.major === 2 && v.minor === 0) {
    return { ok: true, note: '2.0 fails open on a bad reload (reference §3.4), which MCM guards against by validating files and probing after every reload' +
      (v.patch < 16 ? '; before 2.0.16 it does not warn about file permissions' : '') };
  }
  if (v.major === 2) {
    return { ok: true, note: `2.${v.minor}: password_file/acl_file are deprecated for the password-file/acl-file plugins (same formats); a bad file makes the broker exit on reload; mosquitto_passwd writes argon2id by default, which 2.0 cannot read (MCM writes $7$)` };
  }
  return { ok: false, note: `${v.major}.x is untested with MCM: the password_file and acl_file options are gone in 3.0 (use the password-file/acl-file plugins)` };
};

export const checkMosquitto = (config: Config, env: NodeJS.ProcessEnv): CheckResult => {
  const supervised = config.mosquitto.mode === 'supervised';
  const bin = findExecutable(config.mosquitto.binary, env['PATH']);
  if (bin === null) {
    if (!supervised) return skip('mosquitto', `no local ${config.mosquitto.binary} binary (fine: the external broker runs elsewhere)`);
    return fail('mosquitto', `supervised mode needs the broker binary, but ${config.mosquitto.binary} was not found (PATH, /usr/sbin, /usr/local/sbin)`,
      'install it (Debian/Ubuntu: apt-get install mosquitto) or set mosquitto.binary to its path');
  }
  const run = spawnSync(bin, ['-h'], { encoding: 'utf8', timeout: 5000 });
  const version = parseMosquittoVersion(`${run.stdout ?? ''}${run.stderr ?? ''}`);
  const where = supervised ? '' : ' (local binary; the external broker may be another version)';
  if (!version) return warn('mosquitto', `${bin} did not report a version${run.error ? ` (${run.error.message})` : ''}${where}`, `run \`${bin} -h\` by hand`);
  const { ok, note } = versionNote(version);
  const detail = `mosquitto ${version.text} at ${bin}${where}: ${note}`;
  if (ok) return pass('mosquitto', detail);
  return supervised ? fail('mosquitto', detail, 'install Mosquitto 2.0 or 2.1') : warn('mosquitto', detail, 'run the broker on Mosquitto 2.0 or 2.1');
};
