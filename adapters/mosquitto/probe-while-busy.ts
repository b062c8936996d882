/**
 * The enforcement probe for a supervised broker that may be busy loading its files (issue 14):
 * Mosquitto answers nobody while it loads (reference §3.1), which at 100,000 ACL user blocks takes
 * half a minute (reference §10). A probe that failed without finding enforcement off, while the
 * broker kept a core busy all along, proves nothing yet: it runs again, on fresh connections,
 * until the broker answers or idles (then the failure stands), within MAX_BUSY_MS (busy:
 * process-cpu.ts).
 */
import type { ProbeOptions, ProbeResult } from './probe.ts';
import { cpuWatch } from './process-cpu.ts';

/** A broker still busy after this is reported as it is (a load that long is a problem of its own). */
export const MAX_BUSY_MS = 5 * 60_000;

export const probeWhileBusy = async (
  probe: (opts: Omit<ProbeOptions, 'timeoutMs'>) => Promise<ProbeResult>,
  opts: Omit<ProbeOptions, 'timeoutMs'>,
  pid: () => number | null,
  maxMs = MAX_BUSY_MS,
): Promise<ProbeResult> => {
  const began = Date.now();
  let attempt = opts;
  for (;;) {
    const cpu = cpuWatch(pid);
    const result = await probe(attempt);
    if (result.ok || result.failOpen || !cpu.busySince() || Date.now() - began >= maxMs) return result;
    attempt = { ...opts, session: null };
  }
};
