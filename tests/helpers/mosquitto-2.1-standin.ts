#!/usr/bin/env -S sh -c 'exec "$(dirname "$0")/../../node_modules/.bin/node" "$0" "$@"'
/**
 * A stand-in for Mosquitto 2.1.2, which cannot run on these machines (reference §8): it behaves
 * as 2.1 does where MCM depends on it, and lets the real 2.0.11 broker do everything else.
 *
 * - `-h` prints `mosquitto version 2.1.2` and the usage, exit 3 (as the real binary does).
 * - `-c <conf>`: reads the plugin form (`plugin …/mosquitto_password_file.so` +
 *   `plugin_opt_password_file`, `plugin …/mosquitto_acl_file.so` + `plugin_opt_acl_file`; the 2.0
 *   form is accepted too, deprecated), writes the 2.0 form beside it
 *   (`.<conf name>.standin-2.0.conf`) and runs the real mosquitto on that as its child, passing
 *   its log through with the version line saying 2.1.2.
 * - At start and on SIGHUP it checks both files with 2.1's rules first: a line 2.1 refuses (an
 *   invalid ACL line such as `topic readwrite a#`, an undecodable password line such as
 *   `test:bad`, a username given twice) stops the broker with exit code 3, as 2.1.2 does
 *   (upstream tests 23-security-acl-file-reload.py, 23-security-password-file-reload.py).
 *   Otherwise the SIGHUP is passed on to the real broker.
 * - SIGTERM / SIGINT are passed on; the stand-in exits with its child's code.
 *
 * Environment: MCM_STANDIN_REAL_MOSQUITTO (default /usr/sbin/mosquitto).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { checkAclFile } from '../../projections/acl-file-check.ts';

export const STANDIN_VERSION = '2.1.2';
const REAL = process.env['MCM_STANDIN_REAL_MOSQUITTO'] ?? '/usr/sbin/mosquitto';

const stamp = (): string => new Date().toISOString().slice(0, 19);
const log = (msg: string): void => { process.stderr.write(`${stamp()}: ${msg}\n`); };

type Translated = { text: string; passwordFile: string | null; aclFile: string | null; errors: string[] };

/** The 2.0 form of a 2.1 mosquitto.conf (only what MCM and the tests use). */
export const translateConf = (conf: string): Translated => {
  const out: string[] = [];
  const errors: string[] = [];
  let plugin: 'password' | 'acl' | 'other' | null = null;
  let passwordFile: string | null = null;
  let aclFile: string | null = null;
  conf.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    const [key = '', ...rest] = line.split(/\s+/);
    const value = rest.join(' ');
    if (key === 'plugin' || key === 'global_plugin') {
      const name = basename(value);
      plugin = name === 'mosquitto_password_file.so' ? 'password' : name === 'mosquitto_acl_file.so' ? 'acl' : 'other';
      if (plugin === 'other') out.push(raw);
      return;
    }
    if (key.startsWith('plugin_opt_')) {
      if (plugin === 'password' && key === 'plugin_opt_password_file') { passwordFile = value; out.push(`password_file ${value}`); return; }
      if (plugin === 'acl' && key === 'plugin_opt_acl_file') { aclFile = value; out.push(`acl_file ${value}`); return; }
      if (plugin === 'other') { out.push(raw); return; }
      errors.push(`Error: Unknown plugin option ${key} at line ${i + 1}`);
      return;
    }
    if (key === 'password_file') passwordFile = value;
    if (key === 'acl_file') aclFile = value;
    out.push(raw);
  });
  return { text: out.join('\n'), passwordFile, aclFile, errors };
};

const HASH = /^(\$6\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+|\$7\$[1-9]\d*\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+|\$argon2id\$\S+)$/;

/** What 2.1 refuses in a password file (reference §8): an undecodable line, a user named twice. */
export const passwordFileErrors21 = (text: string): string[] => {
  const errors: string[] = [];
  const seen = new Set<string>();
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    if (line === '' || line.startsWith('#')) return;
    const colon = line.indexOf(':');
    const user = colon < 0 ? line : line.slice(0, colon);
    const hash = colon < 0 ? '' : line.slice(colon + 1);
    if (!HASH.test(hash)) errors.push(`Error: Unable to decode line ${i + 1} of the password file`);
    else if (seen.has(user)) errors.push(`Error: Duplicate user '${user}' in the password file`);
    seen.add(user);
  });
  return errors;
};

/** Every reason 2.1 would stop (at start, or on a reload) over the configured files. */
const fileErrors = (t: Translated): string[] => {
  const errors = [...t.errors];
  const read = (p: string): string | null => { try { return readFileSync(p, 'utf8'); } catch { return null; } };
  if (t.passwordFile) {
    const text = read(t.passwordFile);
    if (text === null) errors.push(`Error: Unable to open pwfile "${t.passwordFile}"`);
    else errors.push(...passwordFileErrors21(text));
  }
  if (t.aclFile) {
    const text = read(t.aclFile);
    if (text === null) errors.push(`Error: Unable to open acl_file "${t.aclFile}"`);
    else errors.push(...checkAclFile(text).map((p) => `Error: Invalid line ${p.line} in the acl file: ${p.message}`));
  }
  return errors;
};

const main = (): void => {
  const args = process.argv.slice(2);
  const ci = args.indexOf('-c');
  const confPath = ci >= 0 ? args[ci + 1] : undefined;
  if (args.includes('-h') || confPath === undefined) {
    process.stdout.write(`mosquitto version ${STANDIN_VERSION}\n\nmosquitto is an MQTT v5.0/v3.1.1/v3.1 broker.\n\nUsage: mosquitto [-c config_file] [-d] [-h] [-p port]\n`);
    process.exit(3);
  }
  const translatedPath = join(dirname(confPath), `.${basename(confPath)}.standin-2.0.conf`);
  const translate = (): Translated => {
    const t = translateConf(readFileSync(confPath, 'utf8'));
    writeFileSync(translatedPath, t.text);
    return t;
  };
  const first = translate();
  const startErrors = fileErrors(first);
  if (startErrors.length) {
    for (const e of startErrors) log(e);
    rmSync(translatedPath, { force: true });
    process.exit(3);
  }

  const child: ChildProcess = spawn(REAL, ['-c', translatedPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  // The log passes through line by line, the version line saying 2.1.2 (the supervisor waits for it).
  const pass = (to: NodeJS.WriteStream) => {
    let buf = '';
    return (b: Buffer): void => {
      buf += b.toString('utf8');
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      for (const l of lines) to.write(`${l.replace(/mosquitto version \S+/, `mosquitto version ${STANDIN_VERSION}`)}\n`);
    };
  };
  child.stdout?.on('data', pass(process.stdout));
  child.stderr?.on('data', pass(process.stderr));
  let exitCode: number | null = null;
  child.once('exit', (code, signal) => {
    rmSync(translatedPath, { force: true });
    process.exit(exitCode ?? code ?? (signal ? 1 : 0));
  });
  process.on('SIGHUP', () => {
    let errors: string[];
    try { errors = fileErrors(translate()); } catch (e) { errors = [`Error: ${(e as Error).message}`]; }
    if (errors.length === 0) { child.kill('SIGHUP'); return; }
    // 2.1 stops on a reload that meets a bad file (reference §8).
    for (const e of errors) log(e);
    exitCode = 3;
    child.kill('SIGKILL');
  });
  for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => { child.kill(sig); });
};

if (import.meta.main) main();
