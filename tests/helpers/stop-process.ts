/**
 * Stops an `mcm server` a test spawned, and what it started: SIGTERM first (the server stops its
 * supervised mosquitto), SIGKILL after `graceMs`, then any process with an argument under the
 * test's data dir (a broker orphaned by a SIGKILL). Tests call it from t.after, so a
 * failed assertion never leaves a broker running.
 */
import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

const exited = (child: ChildProcess): Promise<void> =>
  child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));

/** SIGKILL to every process with an argument that starts with `dir` (a broker run on its files). */
export const killProcessesUnder = (dir: string): void => {
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').some((a) => a.startsWith(dir))) process.kill(Number(pid), 'SIGKILL');
    } catch { /* gone, or not ours to read */ }
  }
};

export const stopServerProcess = async (child: ChildProcess, dataDir: string, graceMs = 10_000): Promise<void> => {
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited(child);
    clearTimeout(timer);
  }
  killProcessesUnder(dataDir);
};
