/**
 * External mode with `mosquitto.conf_fragment` (issue "Broker configuration as events"): MCM
 * writes the listeners, limits and bridges it manages into one file the broker's own
 * mosquitto.conf reads through `include_dir`, and restarts the broker with the configured command
 * for a change a reload cannot apply (reference §3.2). A fragment MCM did not write is never
 * overwritten: the server refuses to start and says why.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { isAbsolute } from 'node:path';
import { FRAGMENT_HEADER } from '../../projections/mosquitto-conf-fragment.ts';
import { CONF_HEADER } from '../../projections/mosquitto-conf.ts';

/**
 * External `mosquitto.conf_file`: the whole file MCM writes, or null. Like a fragment, a file MCM
 * did not write is never overwritten (the broker's original configuration stays the operator's).
 */
export const externalConfFile = (path: string | null, fragment: string | null): string | null => {
  if (path === null) return null;
  if (fragment !== null) throw new Error('set mosquitto.conf_fragment or mosquitto.conf_file, not both');
  if (!isAbsolute(path)) throw new Error(`mosquitto.conf_file must be an absolute path (got ${JSON.stringify(path)})`);
  if (existsSync(path)) {
    const text = readFileSync(path, 'utf8');
    if (text.trim() !== '' && !text.startsWith(CONF_HEADER)) {
      throw new Error(`mosquitto.conf_file ${path} exists and was not written by MCM: MCM does not overwrite it. ` +
        'Import it (mcm import --conf), then name a new file and start the broker with mosquitto -c <that file>');
    }
  }
  return path;
};

/** The fragment path, or null; throws when it is relative, not a .conf file, or holds someone else's lines. */
export const externalFragment = (path: string | null): string | null => {
  if (path === null) return null;
  if (!isAbsolute(path)) throw new Error(`mosquitto.conf_fragment must be an absolute path (got ${JSON.stringify(path)})`);
  // mosquitto reads only files ending in .conf from an include_dir (mosquitto.conf(5)).
  if (!path.endsWith('.conf')) throw new Error(`mosquitto.conf_fragment must end in .conf, or the broker's include_dir skips it (got ${path})`);
  if (existsSync(path)) {
    const text = readFileSync(path, 'utf8');
    if (text.trim() !== '' && !text.startsWith(FRAGMENT_HEADER)) {
      throw new Error(`mosquitto.conf_fragment ${path} exists and was not written by MCM: MCM does not overwrite it. ` +
        'Import it (mcm import --conf) and move it away, or name a new file in the include_dir');
    }
  }
  return path;
};

const reachable = (host: string, port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = connect({ host, port }, () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
    s.setTimeout(1000, () => { s.destroy(); resolve(false); });
  });

/** Runs the restart command, then waits until the broker accepts TCP again; null, or why not. */
export const runRestartCommand = async (argv: readonly string[], o: { host: string; port: number; timeoutMs: number }): Promise<string | null> => {
  const [cmd, ...args] = argv;
  if (cmd === undefined) {
    return 'this change needs a broker restart (listeners, bridges or limits a reload does not apply, reference §3.2) and mosquitto.restart_command is not configured';
  }
  const ran = await new Promise<string | null>((resolve) => {
    execFile(cmd, args, { timeout: o.timeoutMs }, (err, _out, stderr) => {
      resolve(err ? `restart command ${argv.join(' ')} failed: ${(stderr || err.message).trim().slice(0, 500)}` : null);
    });
  });
  if (ran !== null) return ran;
  const deadline = Date.now() + o.timeoutMs;
  while (Date.now() < deadline) {
    if (await reachable(o.host, o.port)) return null;
    await new Promise((r) => setTimeout(r, 100));
  }
  return `the broker did not accept connections on ${o.host}:${o.port} within ${o.timeoutMs / 1000} s of the restart command`;
};
