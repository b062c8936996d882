/**
 * The broker's share of a change (issue 14): the same password_file and acl_file MCM rendered,
 * changed and reloaded with no MCM at all — write both atomically (temp file, fsync, rename, as
 * MCM does), SIGHUP, then log in as the changed user with its new password until the broker
 * accepts it (reference §3.1: a reload re-reads both files). What is left of MCM's figure above
 * this is MCM's own work plus the proof it adds (probe, canary, refused logins).
 */
import { spawn } from 'node:child_process';
import { closeSync, fsyncSync, openSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import mqtt from 'mqtt';
import { freePort } from '../tests/helpers/ports.ts';

const writeAtomic = (path: string, text: string): void => {
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w', 0o644);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
};

/** One CONNECT as `username`: accepted, refused (the broker answered no), or down (no answer). */
const login = (port: number, username: string, password: string): Promise<'accepted' | 'refused' | 'down'> =>
  new Promise((resolve) => {
    const c = mqtt.connect({ host: '127.0.0.1', port, username, password, reconnectPeriod: 0, connectTimeout: 600_000, clientId: `bare-${Math.random().toString(16).slice(2, 10)}` });
    c.once('connect', () => { c.end(true); resolve('accepted'); });
    c.once('error', (e) => { c.end(true); resolve(typeof (e as { code?: unknown }).code === 'number' ? 'refused' : 'down'); });
    c.once('close', () => resolve('down'));
  });

export type BareChange = Readonly<{ username: string; password: string; passwordFile: string }>;

/**
 * Starts a broker on copies of `passwordFile` and `aclFile`, then for each change writes both
 * files (the password file with the user's new line) and measures write → SIGHUP → first accepted
 * login. Returns the samples in ms.
 */
export const measureBareReload = async (opts: { bin: string; dir: string; passwordFile: string; aclFile: string; changes: readonly BareChange[] }): Promise<number[]> => {
  const port = await freePort();
  const pw = join(opts.dir, 'passwd');
  const acl = join(opts.dir, 'acl');
  writeAtomic(pw, opts.passwordFile);
  writeAtomic(acl, opts.aclFile);
  const conf = join(opts.dir, 'mosquitto.conf');
  writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous false\npassword_file ${pw}\nacl_file ${acl}\npersistence false\nuser root\n`);
  const broker = spawn(opts.bin, ['-c', conf], { stdio: 'ignore' });
  try {
    const gone = (): boolean => broker.exitCode !== null || broker.signalCode !== null;
    // Until it answers: a SIGHUP before its handler is installed would end it, and loading a big
    // acl_file takes a while (reference §10).
    while ((await login(port, '-', '-')) === 'down') {
      if (gone()) throw new Error('the bare broker did not start');
      await new Promise((r) => setTimeout(r, 50));
    }
    const samples: number[] = [];
    for (const change of opts.changes) {
      const t0 = performance.now();
      writeAtomic(acl, opts.aclFile);
      writeAtomic(pw, change.passwordFile);
      broker.kill('SIGHUP');
      // Refused until the reload lands (the old file); a broker that died is not waited for.
      while ((await login(port, change.username, change.password)) !== 'accepted') {
        if (gone() || performance.now() - t0 > 600_000) throw new Error('the bare broker did not accept the changed user');
      }
      samples.push(performance.now() - t0);
    }
    return samples;
  } finally {
    broker.kill('SIGTERM');
    await new Promise((r) => broker.once('exit', r));
  }
};
