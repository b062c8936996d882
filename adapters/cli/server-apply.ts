/**
 * What the commands that change the configuration as one batch share (`mcm apply`, `mcm import`):
 * the confirmation prompt, the server's certificate for the API client, the empty store a new
 * data dir plans on, and the wait until the broker runs what was appended (DESIGN §6).
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import type { EventStore } from '../../core/ports.ts';
import { initialState } from '../../core/state.ts';
import type { Config } from '../config/config.ts';
import type { ApiClient } from './api-client.ts';
import { EXIT, type CliIo } from './command.ts';

/** Asks on the terminal; true only for the answer "yes". */
export const ttyConfirm = async (question: string): Promise<boolean> => {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return (await rl.question(question)).trim() === 'yes';
  } finally {
    rl.close();
  }
};

export const serverCertOf = (config: Config): Buffer | null => {
  if (config.http.tls.cert === null) return null;
  try { return readFileSync(config.http.tls.cert); } catch { return null; }
};

/** The store of a data dir with no event log yet: planning only, never appended to. */
export const emptyStore = (): EventStore => ({
  state: initialState,
  headSeq: () => 0,
  lastSeqOf: () => 0,
  append: () => { throw new Error('the empty store is for planning only'); },
  transact: () => { throw new Error('the empty store is for planning only'); },
  transactGroup: () => { throw new Error('the empty store is for planning only'); },
  read: () => [],
  onAppend: () => () => {},
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

type ApplyStatusBody = {
  desired_seq: number;
  applied_seq: number;
  state: string;
  last: { seq: number; result: string; latency_ms: number | null; reason?: string } | null;
};

export type WaitOptions = Readonly<{
  /** Names the command in messages (`mcm apply: …`). */
  command: string;
  timeoutS: number;
  pollMs: number;
  /** Where the success line goes (stdout; stderr when stdout carries JSON). */
  report?: (s: string) => void;
}>;

/** Waits until the broker runs the generation the log asks for now, or its apply failed. */
export const waitForBroker = async (io: CliIo, client: ApiClient, opts: WaitOptions): Promise<number> => {
  const { command, timeoutS, pollMs } = opts;
  const report = opts.report ?? ((s: string) => io.stdout(s));
  const first = (await client.request('GET', '/apply-status')).body as ApplyStatusBody;
  const target = first.desired_seq;
  const deadline = Date.now() + timeoutS * 1000;
  let s = first;
  for (;;) {
    if (s.applied_seq >= target) {
      const how = s.last?.result === 'written' ? 'written (reload strategy none: the broker was not reloaded)' : 'applied and enforced';
      const took = s.last?.latency_ms === null || s.last === null ? '' : ` in ${s.last.latency_ms.toFixed(1)} ms`;
      report(`broker: generation ${s.applied_seq} ${how}${took}\n`);
      return EXIT.OK;
    }
    if (s.last !== null && s.last.seq >= target && s.last.result === 'failed') {
      io.stderr(`mcm ${command}: the change is in the event log, but applying generation ${target} to the broker failed: ${s.last.reason ?? 'no reason given'} (see \`mcm status\`)\n`);
      return EXIT.FAILURE;
    }
    if (Date.now() >= deadline) {
      io.stderr(`mcm ${command}: the change is in the event log, but the broker does not run generation ${target} yet after ${timeoutS} s (state ${s.state}; see \`mcm status\`)\n`);
      return EXIT.FAILURE;
    }
    await sleep(pollMs);
    s = (await client.request('GET', '/apply-status')).body as ApplyStatusBody;
  }
};
