/**
 * Runs whole-log reads (verify, time travel) on a worker thread (log-reader-worker.ts), at most
 * `maxConcurrent` at once; more wait their turn. The event loop only waits for the answer, so
 * probes, ws heartbeats and other requests go on meanwhile.
 */
import { Worker } from 'node:worker_threads';
import type { VerifyResult } from './event-store.ts';
import type { LogReadTask } from './log-reader-worker.ts';

export type LogReader = {
  verify(): Promise<VerifyResult>;
  /** The state view (adapters/http/routes/state.ts stateView) folded up to `at`. */
  stateAt(at: number, serviceAccount: string): Promise<unknown>;
};

// Beside this module: the TypeScript source, or in the bundle (scripts/build-server.ts) its own entry.
const WORKER = new URL(import.meta.url.endsWith('.mjs') ? './log-reader-worker.mjs' : './log-reader-worker.ts', import.meta.url);

export const createLogReader = (deps: Readonly<{ dbPath: string; maxConcurrent?: number }>): LogReader => {
  const max = Math.max(1, deps.maxConcurrent ?? 2);
  let running = 0;
  const waiting: (() => void)[] = [];
  const slot = async (): Promise<void> => {
    if (running < max) { running++; return; }
    await new Promise<void>((resolve) => waiting.push(resolve));
  };
  const release = (): void => {
    const next = waiting.shift();
    if (next) next(); else running--;
  };

  const run = async <T>(task: LogReadTask): Promise<T> => {
    await slot();
    try {
      return await new Promise<T>((resolve, reject) => {
        const worker = new Worker(WORKER, { workerData: { dbPath: deps.dbPath, task } });
        worker.once('message', (m: { ok: boolean; value?: T; message?: string }) => {
          if (m.ok) resolve(m.value as T);
          else reject(new Error(m.message ?? 'log reader failed'));
        });
        worker.once('error', reject);
        worker.once('exit', (code) => { if (code !== 0) reject(new Error(`log reader exited with code ${code}`)); });
      });
    } finally {
      release();
    }
  };

  return {
    verify: () => run<VerifyResult>({ kind: 'verify' }),
    stateAt: (at, serviceAccount) => run({ kind: 'state', at, serviceAccount }),
  };
};
