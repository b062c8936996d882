/**
 * The measured children of bench/startup.bench.ts, each run in a fresh process on the data dir:
 *
 *   node bench/startup-child.ts store <data dir>   openDatabase + createSqliteEventStore (as adapters/main.ts
 *                                                  builds it: the snapshot key from secrets/) → state ready
 *   node bench/startup-child.ts bare <data dir>    the least a start must do: node:sqlite, the newest snapshot
 *                                                  row, JSON.parse, fold the tail with core/evolve.ts
 *
 * Each prints one JSON line: `ms` from before its first import to the folded state, `open_ms`
 * from opening the database to the folded state, and the process's memory at that point.
 */
import { join } from 'node:path';

export type ChildOut = { ms: number; open_ms: number; head: number; users: number; rules: number; rss_mib: number; heap_mib: number };

const started = performance.now();
const [mode, dir] = process.argv.slice(2);
if (dir === undefined) throw new Error('usage: startup-child.ts store|bare <data dir>');

type State = { seq: number; users: object; rules: object };

const storeReady = async (): Promise<{ opened: number; state: State }> => {
  const { createSecretStore } = await import('../adapters/secrets/secret-store.ts');
  const { createSqliteEventStore, SNAPSHOT_KEY_NAME } = await import('../adapters/sqlite/event-store.ts');
  const { openDatabase, SERVER_BUSY_TIMEOUT_MS } = await import('../adapters/sqlite/open-database.ts');
  const opened = performance.now();
  const db = openDatabase(join(dir, 'mcm.db'), { busyTimeoutMs: SERVER_BUSY_TIMEOUT_MS });
  const snapshotKey = createSecretStore(dir).read(SNAPSHOT_KEY_NAME);
  const store = createSqliteEventStore({ db, snapshotKey });
  return { opened, state: store.state() };
};

const bareReady = async (): Promise<{ opened: number; state: State }> => {
  const { DatabaseSync } = await import('node:sqlite');
  const { evolve } = await import('../core/evolve.ts');
  type Event = Parameters<typeof evolve>[1];
  const opened = performance.now();
  const db = new DatabaseSync(join(dir, 'mcm.db'), { readOnly: true });
  const snap = db.prepare('SELECT seq, state FROM snapshots ORDER BY seq DESC LIMIT 1').get() as { seq: number; state: string };
  let state = (JSON.parse(snap.state) as { state: Parameters<typeof evolve>[0] }).state;
  for (const raw of db.prepare('SELECT seq, type, data, at FROM events WHERE seq > ? ORDER BY seq').iterate(snap.seq)) {
    const row = raw as { seq: number; type: string; data: string; at: string };
    state = evolve(state, { type: row.type, data: JSON.parse(row.data), seq: row.seq, at: row.at } as Event);
  }
  return { opened, state };
};

const { opened, state } = mode === 'store' ? await storeReady() : mode === 'bare' ? await bareReady() : (() => { throw new Error(`unknown mode ${mode}`); })();
const done = performance.now();
const mem = process.memoryUsage();
const out: ChildOut = {
  ms: done - started, open_ms: done - opened, head: state.seq,
  users: Object.keys(state.users).length, rules: Object.keys(state.rules).length,
  rss_mib: mem.rss / 2 ** 20, heap_mib: mem.heapUsed / 2 ** 20,
};
process.stdout.write(`${JSON.stringify(out)}\n`);
