/**
 * Worker thread for the whole-log reads the API offers (issue "second hardening round"):
 * `GET /events/verify` walks every row and `GET /state?at=SEQ` folds up to SEQ. On a big log
 * either takes seconds of synchronous work; run on the server's event loop it stalled probes,
 * ws heartbeats and every other request. Here it runs on its own thread, with its own read-only
 * connection to the same database file (WAL: readers never block the writer).
 */
import { DatabaseSync } from 'node:sqlite';
import { parentPort, workerData } from 'node:worker_threads';
import { evolve } from '../../core/evolve.ts';
import { initialState } from '../../core/state.ts';
import { stateView } from '../http/routes/state.ts';
import { iterateEnvelopes, verifyChain } from './event-store.ts';

export type LogReadTask =
  | { kind: 'verify' }
  | { kind: 'state'; at: number; serviceAccount: string };

type Input = { dbPath: string; task: LogReadTask };

const run = ({ dbPath, task }: Input): unknown => {
  const db = new DatabaseSync(dbPath, { readOnly: true });
  try {
    db.exec('PRAGMA busy_timeout = 5000');
    if (task.kind === 'verify') return verifyChain(db);
    let state = initialState();
    for (const e of iterateEnvelopes(db, task.at)) state = evolve(state, e);
    return stateView(state, task.serviceAccount);
  } finally {
    db.close();
  }
};

try {
  parentPort?.postMessage({ ok: true, value: run(workerData as Input) });
} catch (err) {
  parentPort?.postMessage({ ok: false, message: (err as Error).message });
}
