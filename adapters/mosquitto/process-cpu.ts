/**
 * Whether a broker that does not answer is busy or hung. Mosquitto loads its files on one thread
 * and answers nobody meanwhile (reference §3.1); loading an acl_file grows faster than linearly
 * with its user blocks (reference §10): about 2.4 s for 30,000 and half a minute for 100,000 on
 * the 2-core development machine (issue 14). A fixed start or probe timeout would kill or fail a
 * broker that is merely loading; one that keeps using CPU is given more time, one that sits idle
 * is not.
 */
import { readFileSync } from 'node:fs';

/** USER_HZ: the unit of /proc/<pid>/stat times on every Linux architecture Node supports. */
const TICKS_PER_S = 100;

/** What /proc/<pid>/stat says of `pid`: CPU time used (user + system, ms) and whether it is runnable now. */
const processCpu = (pid: number): { cpuMs: number; running: boolean } | null => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may hold spaces: fields count from after its ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
    if (!Number.isFinite(ticks)) return null;
    return { cpuMs: (ticks * 1000) / TICKS_PER_S, running: fields[0] === 'R' };
  } catch {
    return null;
  }
};

/** A process counts as busy when it used at least this share of one core over the interval. */
const BUSY_SHARE = 0.1;

/**
 * Samples `pid`; `busySince()` says whether it was busy since the last call: runnable right now
 * (a loading broker always is; one waiting for clients sleeps), or it used at least `share` of a
 * core meanwhile. Either alone misleads on a machine short of CPU, where a loading broker may get
 * little of a core, or between two samples.
 */
export const cpuWatch = (pid: () => number | null, share = BUSY_SHARE) => {
  const sample = (): { cpuMs: number; running: boolean } | null => { const p = pid(); return p === null ? null : processCpu(p); };
  let at = Date.now();
  let last = sample();
  return {
    busySince(): boolean {
      const now = Date.now();
      const next = sample();
      const busy = next !== null && (next.running || (last !== null && next.cpuMs - last.cpuMs >= share * Math.max(1, now - at)));
      at = now;
      last = next;
      return busy;
    },
  };
};
