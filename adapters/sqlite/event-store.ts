/**
 * The event log on node:sqlite (DESIGN §4): one append-only table, a sha256 hash chain with its
 * head in `chain_head`, optimistic concurrency per stream, snapshots as a start-up cache, and the
 * folded BrokerConfig kept in memory.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { DatabaseSync } from 'node:sqlite';
import { canonicalJson } from '../../core/canonical-json.ts';
import { DomainError, ERROR_CODES } from '../../core/errors.ts';
import { EVENT_VERSION, isEventType, type Actor, type DomainEvent, type EventEnvelope } from '../../core/events.ts';
import { evolve } from '../../core/evolve.ts';
import type { AppendMeta, EventStore, GroupItem, GroupOutcome, ReadQuery, StoreView } from '../../core/ports.ts';
import { initialState, type BrokerConfig } from '../../core/state.ts';
import { streamOf } from '../../core/streams.ts';
import { upcast } from '../../core/upcast.ts';
import { storageErrorOf, withStorageErrors } from './storage-errors.ts';

/** The first row's prev_hash (DESIGN §4). */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * Snapshot rows hold `{format, state}`. Bump this when BrokerConfig's shape changes: older
 * snapshots are then ignored (they are only a cache) instead of loading a state missing fields.
 */
// 2: BrokerConfig gained webhooks/nextWebhookId. 3: AdminUser.mfa gained `pending`.
export const SNAPSHOT_FORMAT = 3;

/** The secrets/ file holding the snapshots' HMAC key (DESIGN §4: secrets never in the database). */
export const SNAPSHOT_KEY_NAME = 'snapshot.key';

/**
 * HMAC-SHA256 over a snapshot's seq, the hash of the event it was taken at, and its text: an
 * edited snapshot (an admin added to the state) no longer matches, and is ignored.
 */
export const snapshotMac = (key: Buffer, seq: number, eventHash: string, stateText: string): string =>
  createHmac('sha256', key).update(`${seq}\n${eventHash}\n`).update(stateText).digest('hex');

const sameHex = (a: string, b: string): boolean => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

export type SnapshotCheck = { checked: number; bad: { seq: number; reason: string }[] };

/** Every snapshot's HMAC (`mcm events verify`): a snapshot is only a cache, but an edited one is an attack. */
export const verifySnapshots = (db: DatabaseSync, key: Buffer | null): SnapshotCheck => {
  const rows = db.prepare('SELECT s.seq AS seq, s.state AS state, s.event_hash AS event_hash, s.mac AS mac, e.hash AS hash FROM snapshots s LEFT JOIN events e ON e.seq = s.seq ORDER BY s.seq').all() as unknown as
    { seq: number; state: string; event_hash: string; mac: string | null; hash: string | null }[];
  const bad: { seq: number; reason: string }[] = [];
  for (const r of rows) {
    if (r.hash !== r.event_hash) bad.push({ seq: r.seq, reason: 'taken at an event that is not in the log (stale: ignored at start)' });
    else if (key === null) bad.push({ seq: r.seq, reason: `cannot be checked: secrets/${SNAPSHOT_KEY_NAME} is missing or unreadable` });
    else if (r.mac === null || !sameHex(r.mac, snapshotMac(key, r.seq, r.event_hash, r.state))) bad.push({ seq: r.seq, reason: 'its content does not match its HMAC: it was edited' });
  }
  return { checked: rows.length, bad };
};

export type VerifyFailureReason =
  | 'hash mismatch' | 'broken link' | 'missing seq' | 'unexpected seq' | 'malformed row'
  | 'head mismatch' | 'head missing';

export type VerifyResult =
  | { ok: true; count: number; head: number; head_hash: string }
  | { ok: false; first_bad_seq: number; reason: VerifyFailureReason; detail: string };

export type ChainFields = Readonly<{
  seq: number; stream: string; type: string; version: number; data: unknown; actor: unknown; at: string;
}>;

/** hex sha256(prev_hash || canonical JSON of {seq, stream, type, version, data, actor, at}) (DESIGN §4). */
export const chainHash = (prevHash: string, f: ChainFields): string =>
  createHash('sha256')
    .update(prevHash + canonicalJson({ seq: f.seq, stream: f.stream, type: f.type, version: f.version, data: f.data, actor: f.actor, at: f.at }))
    .digest('hex');

/**
 * chainHash of fields whose data and actor are already canonical JSON text (the append path, which
 * stores exactly that text): the same hash without canonicalising both again for every event. The
 * keys are written in canonicalJson's order (actor, at, data, seq, stream, type, version).
 */
export const chainHashOfText = (
  prevHash: string,
  f: Readonly<{ seq: number; stream: string; type: string; version: number; dataText: string; actorText: string; at: string }>,
): string =>
  createHash('sha256')
    .update(`${prevHash}{"actor":${f.actorText},"at":${JSON.stringify(f.at)},"data":${f.dataText},"seq":${JSON.stringify(f.seq)},"stream":${JSON.stringify(f.stream)},"type":${JSON.stringify(f.type)},"version":${JSON.stringify(f.version)}}`)
    .digest('hex');

type Row = { seq: number; stream: string; type: string; version: number; data: string; actor: string; at: string; prev_hash: string; hash: string };
type Head = { seq: number; hash: string };

const COLUMNS = 'seq, stream, type, version, data, actor, at, prev_hash, hash';

/**
 * Walks the whole chain, recomputing every hash and link, and checks that seqs run 1, 2, 3… and
 * that chain_head names the last row. Needs no folded state (`mcm events verify`, backup checks).
 * Reads inside one transaction so a concurrent writer can't make a consistent log look broken.
 */
export const verifyChain = (db: DatabaseSync): VerifyResult => {
  const own = !db.isTransaction;
  if (own) db.exec('BEGIN');
  try {
    return walkChain(db);
  } finally {
    if (own) db.exec('COMMIT');
  }
};

const walkChain = (db: DatabaseSync): VerifyResult => {
  const fail = (first_bad_seq: number, reason: VerifyFailureReason, detail: string): VerifyResult =>
    ({ ok: false, first_bad_seq, reason, detail });
  let expected = 1;
  let prev = GENESIS_HASH;
  for (const raw of db.prepare(`SELECT ${COLUMNS} FROM events ORDER BY seq`).iterate()) {
    const row = raw as unknown as Row;
    if (row.seq > expected) return fail(expected, 'missing seq', `seq ${expected} is missing (next row is seq ${row.seq})`);
    if (row.seq < expected) return fail(row.seq, 'unexpected seq', `seq ${row.seq} where seq ${expected} was expected`);
    let computed: string;
    try {
      computed = chainHash(row.prev_hash, { ...row, data: JSON.parse(row.data), actor: JSON.parse(row.actor) });
    } catch {
      return fail(row.seq, 'malformed row', `seq ${row.seq} holds data or actor that is not JSON`);
    }
    if (computed !== row.hash) return fail(row.seq, 'hash mismatch', `seq ${row.seq}: stored hash does not match its contents`);
    if (row.prev_hash !== prev) return fail(row.seq, 'broken link', `seq ${row.seq}: prev_hash is not the hash of seq ${row.seq - 1}`);
    prev = row.hash;
    expected += 1;
  }
  const last = expected - 1;
  const head = db.prepare('SELECT seq, hash FROM chain_head WHERE id = 1').get() as Head | undefined;
  if (!head) {
    return last === 0 ? { ok: true, count: 0, head: 0, head_hash: GENESIS_HASH } : fail(1, 'head missing', 'chain_head is missing');
  }
  if (head.seq > last) return fail(last + 1, 'head mismatch', `chain_head is at seq ${head.seq} but the log ends at seq ${last}: rows were deleted`);
  if (head.seq < last) return fail(head.seq + 1, 'head mismatch', `rows after chain_head seq ${head.seq} are not covered by it`);
  if (head.hash !== prev) return fail(last, 'head mismatch', `chain_head hash differs from the hash of seq ${last}`);
  return { ok: true, count: last, head: last, head_hash: prev };
};

/** A stored row as the envelope callers see: payload upcast to its type's current version. */
export const toEnvelope = (row: Row): EventEnvelope => {
  const data = upcast(row.type, row.version, JSON.parse(row.data));
  // After upcasting, the payload is at its type's current version, and the envelope says so.
  const version = isEventType(row.type) ? EVENT_VERSION[row.type] : row.version;
  const { seq, stream, type, at, prev_hash, hash } = row;
  return { type, data, seq, stream, version, actor: JSON.parse(row.actor) as Actor, at, prev_hash, hash } as EventEnvelope;
};

/** Envelopes with seq <= `to`, in order, read one at a time (a fold of a big log never holds it all). */
export const iterateEnvelopes = function* (db: DatabaseSync, to: number): Generator<EventEnvelope> {
  for (const raw of db.prepare(`SELECT ${COLUMNS} FROM events WHERE seq <= ? ORDER BY seq`).iterate(to)) yield toEnvelope(raw as unknown as Row);
};

export type SqliteEventStoreDeps = Readonly<{
  db: DatabaseSync;
  /** Write a snapshot each time the head crosses a multiple of this; 0 = never write snapshots. */
  snapshotEvery?: number;
  /** Snapshots kept (newest); older ones are pruned. */
  keepSnapshots?: number;
  /** A throwing onAppend listener is reported here; the append has succeeded regardless. */
  onListenerError?: (err: unknown) => void;
  /** A failed snapshot write is reported here; it never fails the append. */
  onSnapshotError?: (err: unknown) => void;
  /**
   * The snapshots' HMAC key (secrets/snapshot.key). Without it snapshots are neither written nor
   * trusted: the state is folded from the log (slower start, same result).
   */
  snapshotKey?: Buffer | null;
  /** A snapshot whose HMAC does not match (edited) was ignored: a security event for the server. */
  onSnapshotRejected?: (seq: number, reason: string) => void;
}>;

export type SqliteEventStore = EventStore & { verify(): VerifyResult };

export const createSqliteEventStore = (deps: SqliteEventStoreDeps): SqliteEventStore => {
  const { db, snapshotEvery = 1000, keepSnapshots = 2 } = deps;
  if (!Number.isSafeInteger(snapshotEvery) || snapshotEvery < 0) throw new Error(`snapshotEvery must be an integer >= 0, got ${snapshotEvery}`);

  // Prepared once per store: appends and reads are on the hot path.
  const headStmt = db.prepare('SELECT seq, hash FROM chain_head WHERE id = 1');
  const insertStmt = db.prepare(`INSERT INTO events (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const setHeadStmt = db.prepare(
    'INSERT INTO chain_head (id, seq, hash) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash',
  );
  const lastSeqStmt = db.prepare('SELECT max(seq) AS seq FROM events WHERE stream = ?');
  const rangeStmt = db.prepare(`SELECT ${COLUMNS} FROM events WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?`);
  const streamRangeStmt = db.prepare(`SELECT ${COLUMNS} FROM events WHERE stream = ? AND seq > ? AND seq <= ? ORDER BY seq LIMIT ?`);
  // A snapshot counts only when the event it was taken at is still the one in the log.
  const snapshotsStmt = db.prepare(
    'SELECT s.seq AS seq, s.state AS state, s.event_hash AS event_hash, s.mac AS mac FROM snapshots s JOIN events e ON e.seq = s.seq AND e.hash = s.event_hash WHERE s.seq <= ? ORDER BY s.seq DESC',
  );
  const putSnapshotStmt = db.prepare('INSERT OR REPLACE INTO snapshots (seq, state, event_hash, mac) VALUES (?, ?, ?, ?)');
  const snapshotKey = deps.snapshotKey ?? null;
  const pruneSnapshotsStmt = db.prepare('DELETE FROM snapshots WHERE seq NOT IN (SELECT seq FROM snapshots ORDER BY seq DESC LIMIT ?)');

  const readHead = (): Head => (headStmt.get() as Head | undefined) ?? { seq: 0, hash: GENESIS_HASH };


  const rows = (after: number, to: number): Iterable<Row> =>
    rangeStmt.iterate(after, to, -1) as unknown as Iterable<Row>;

  /** Latest valid snapshot at or before the head, then the events after it. */
  const load = (): { state: BrokerConfig; head: Head } => {
    const head = readHead();
    let state = initialState();
    let from = 0;
    // Without the key nothing vouches for a snapshot's content: fold from the log.
    for (const raw of snapshotKey === null ? [] : snapshotsStmt.iterate(head.seq)) {
      const snap = raw as { seq: number; state: string; event_hash: string; mac: string | null };
      // One written before snapshots carried an HMAC is just not trusted; a wrong HMAC is an edit.
      if (snap.mac === null) continue;
      if (!sameHex(snap.mac, snapshotMac(snapshotKey as Buffer, snap.seq, snap.event_hash, snap.state))) {
        deps.onSnapshotRejected?.(snap.seq, 'its content does not match its HMAC: it was edited');
        continue;
      }
      try {
        const parsed = JSON.parse(snap.state) as { format?: unknown; state?: BrokerConfig };
        if (parsed.format !== SNAPSHOT_FORMAT || typeof parsed.state !== 'object' || parsed.state === null) continue;
        state = parsed.state;
        from = snap.seq;
        break;
      } catch {
        continue; // an unreadable snapshot is just a cache miss
      }
    }
    for (const row of rows(from, head.seq)) state = evolve(state, toEnvelope(row));
    return { state, head };
  };

  let { state, head } = load();
  const listeners = new Set<(recorded: readonly EventEnvelope[]) => void>();

  const lastSeqOf = (stream: string): number => Number((lastSeqStmt.get(stream) as { seq: number | null }).seq ?? 0);

  const checkStale = (events: readonly DomainEvent[], meta: AppendMeta): void => {
    if (meta.expectedSeq === undefined) return;
    // Stale only when the stream the caller decided on moved (DESIGN §4); without a target, the
    // streams the batch writes to stand in for it.
    const streams = meta.targetStream !== undefined ? [meta.targetStream] : [...new Set(events.map(streamOf))];
    for (const stream of streams) {
      const current = lastSeqOf(stream);
      if (current > meta.expectedSeq) {
        throw new DomainError(ERROR_CODES.STALE_STREAM, `${stream} changed after seq ${meta.expectedSeq}`, [
          { stream, expected_seq: meta.expectedSeq, current_seq: current },
        ]);
      }
    }
  };

  const notify = (recorded: readonly EventEnvelope[]): void => {
    for (const listener of [...listeners]) {
      try {
        listener(recorded);
      } catch (err) {
        deps.onListenerError?.(err);
      }
    }
  };

  const writeSnapshot = (): void => {
    try {
      db.exec('BEGIN IMMEDIATE');
      try {
        const text = JSON.stringify({ format: SNAPSHOT_FORMAT, state });
        putSnapshotStmt.run(head.seq, text, head.hash, snapshotMac(snapshotKey as Buffer, head.seq, head.hash, text));
        pruneSnapshotsStmt.run(Math.max(1, keepSnapshots));
        db.exec('COMMIT');
      } catch (err) {
        if (db.isTransaction) db.exec('ROLLBACK');
        throw err;
      }
    } catch (err) {
      deps.onSnapshotError?.(err);
    }
  };

  /**
   * The one write path: BEGIN IMMEDIATE (the database's write lock, so writers in other processes
   * are serialised), fold in what other connections appended, then for each item let its decide
   * run on that state, append its events to the chain and fold them; COMMIT once. An item whose
   * decide throws a DomainError appends nothing and keeps its error; anything else thrown rolls
   * the whole group back.
   */
  const writeGroup = <T>(items: readonly GroupItem<T>[]): GroupOutcome<T>[] => {
    const before = head.seq;
    let foreign: EventEnvelope[] = [];
    const all: EventEnvelope[] = [];
    const outcomes: GroupOutcome<T>[] = [];
    let stateTouched = false;
    // Another process holding the write lock makes BEGIN IMMEDIATE fail after busy_timeout.
    withStorageErrors('the event log', () => db.exec('BEGIN IMMEDIATE'));
    try {
      const dbHead = readHead();
      if (dbHead.seq !== head.seq || dbHead.hash !== head.hash) {
        // Another connection appended (e.g. the CLI on the data dir): catch up so the decision
        // and the chain extend the state the database holds, not the one this process last saw.
        stateTouched = true;
        foreign = [...rows(head.seq, dbHead.seq)].map(toEnvelope);
        for (const env of foreign) state = evolve(state, env);
      }
      let seq = dbHead.seq;
      let prev = dbHead.hash;
      for (const item of items) {
        let events: readonly DomainEvent[];
        try {
          events = item.decide({ state, headSeq: seq, lastSeqOf });
        } catch (err) {
          // A refused command changes nothing; the rest of the group goes on.
          if (err instanceof DomainError) { outcomes.push({ error: err }); continue; }
          throw err;
        }
        const recorded: EventEnvelope[] = [];
        const actorText = canonicalJson(item.meta.actor);
        const actor = JSON.parse(actorText) as Actor;
        for (const event of events) {
          if (!isEventType(event.type)) {
            throw new DomainError(ERROR_CODES.EVENT_UNKNOWN, `cannot append unknown event type "${String(event.type)}"`, [{ type: event.type }]);
          }
          seq += 1;
          const stream = streamOf(event);
          const version = EVENT_VERSION[event.type];
          // Store the canonical text and hand out its parse, so the live state is exactly what a
          // replay of the stored rows produces (undefined members dropped, no shared references).
          const dataText = canonicalJson(event.data);
          const data = JSON.parse(dataText) as unknown;
          const hash = chainHashOfText(prev, { seq, stream, type: event.type, version, dataText, actorText, at: item.meta.at });
          insertStmt.run(seq, stream, event.type, version, dataText, actorText, item.meta.at, prev, hash);
          recorded.push({ type: event.type, data, seq, stream, version, actor, at: item.meta.at, prev_hash: prev, hash } as EventEnvelope);
          prev = hash;
        }
        // Folded before COMMIT (and before the next item decides): if evolve throws, the group is
        // rolled back instead of sitting in the log unfolded. The state is rebuilt below then.
        stateTouched = true;
        for (const env of recorded) state = evolve(state, env);
        all.push(...recorded);
        outcomes.push({ recorded, captured: item.capture?.(state, recorded) });
      }
      if (seq !== dbHead.seq) setHeadStmt.run(seq, prev);
      db.exec('COMMIT');
      head = { seq, hash: prev };
    } catch (err) {
      // A failed COMMIT (disk full) may have ended the transaction already; a ROLLBACK that fails
      // too must not hide the first error.
      try { if (db.isTransaction) db.exec('ROLLBACK'); } catch { /* the first error is the one to report */ }
      if (stateTouched) ({ state, head } = load());
      throw storageErrorOf(err, 'the event log') ?? err;
    }
    if (snapshotEvery > 0 && snapshotKey !== null && Math.floor(head.seq / snapshotEvery) > Math.floor(before / snapshotEvery)) writeSnapshot();
    if (foreign.length > 0) notify(foreign);
    if (all.length > 0) notify(all);
    return outcomes;
  };

  const write = (decideEvents: (view: StoreView) => readonly DomainEvent[], meta: Omit<AppendMeta, 'expectedSeq' | 'targetStream'>): EventEnvelope[] => {
    const [outcome] = writeGroup([{ decide: decideEvents, meta }]);
    if (outcome === undefined) return [];
    if ('error' in outcome) throw outcome.error;
    return outcome.recorded;
  };

  const append = (events: readonly DomainEvent[], meta: AppendMeta): EventEnvelope[] => {
    if (events.length === 0) return [];
    return write(() => {
      checkStale(events, meta);
      return events;
    }, meta);
  };

  const read = (query: ReadQuery = {}): EventEnvelope[] => {
    const after = query.after ?? 0;
    const to = query.to ?? Number.MAX_SAFE_INTEGER;
    const limit = query.limit === undefined ? -1 : Math.max(0, Math.floor(query.limit));
    const found = query.stream === undefined
      ? rangeStmt.all(after, to, limit)
      : streamRangeStmt.all(query.stream, after, to, limit);
    return (found as unknown as Row[]).map(toEnvelope);
  };

  return {
    state: () => state,
    headSeq: () => head.seq,
    lastSeqOf,
    append,
    transact: write,
    transactGroup: writeGroup,
    read,
    onAppend: (listener) => {
      listeners.add(listener);
      return () => { listeners.delete(listener); };
    },
    verify: () => verifyChain(db),
  };
};
