import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import { describe, it, type TestContext } from 'node:test';
import { createSqliteEventStore, GENESIS_HASH, SNAPSHOT_FORMAT, snapshotMac, verifySnapshots } from '../../adapters/sqlite/event-store.ts';
import { BCRYPT_A, ev } from '../helpers/decider-spec.ts';
import { openDatabase } from '../../adapters/sqlite/open-database.ts';
import { MIGRATIONS } from '../../adapters/sqlite/schema.ts';
import { canonicalJson } from '../../core/canonical-json.ts';
import { isDomainError } from '../../core/errors.ts';
import type { Actor, DomainEvent, EventEnvelope } from '../../core/events.ts';
import { fold } from '../../core/evolve.ts';
import { initialState } from '../../core/state.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const actor: Actor = { kind: 'admin', id: 'root', ip: '127.0.0.1' };
const AT = '2026-01-02T03:04:05.000Z';
const HASH = `$7$101$XKm0/ruYS/eOrtlr$${'A'.repeat(86)}==`;

const userCreated = (username: string): DomainEvent =>
  ({ type: 'MqttUserCreated', data: { username, passwordHash: HASH, description: `user ${username}`, disabled: false } });
const roleDefined = (role: string): DomainEvent => ({ type: 'RoleDefined', data: { role, description: '' } });
const granted = (username: string, role: string): DomainEvent => ({ type: 'RoleGranted', data: { username, role } });
const described = (username: string, description: string): DomainEvent => ({ type: 'MqttUserDescribed', data: { username, description } });

/** A real database file in the test's temp dir, closed in t.after. */
const openFile = (t: TestContext, dir = tempDir(t)): { db: DatabaseSync; path: string; dir: string } => {
  const path = join(dir, 'data', 'mcm.db');
  const db = openDatabase(path);
  t.after(() => { if (db.isOpen) db.close(); });
  return { db, path, dir };
};

const reopen = (t: TestContext, path: string): DatabaseSync => {
  const db = openDatabase(path);
  t.after(() => { if (db.isOpen) db.close(); });
  return db;
};

const count = (db: DatabaseSync, table: string): number => Number((db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n);

const isCode = (code: string) => (e: unknown): boolean => isDomainError(e) && e.code === code;

describe('openDatabase', () => {
  it('creates the parent dir 0700 and the file 0600, in WAL with synchronous=FULL [DESIGN §4]', (t) => {
    const { db, path, dir } = openFile(t);
    assert.equal(statSync(join(dir, 'data')).mode & 0o777, 0o700);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    const pragma = (name: string): unknown => Object.values(db.prepare(`PRAGMA ${name}`).get() ?? {})[0];
    assert.equal(pragma('journal_mode'), 'wal');
    assert.equal(pragma('synchronous'), 2, 'FULL');
    assert.equal(pragma('foreign_keys'), 1);
    assert.equal(pragma('busy_timeout'), 5000);
    assert.equal(pragma('user_version'), MIGRATIONS.length);
  });

  it('migrates once: reopening an up-to-date database keeps its data', (t) => {
    const { db, path } = openFile(t);
    createSqliteEventStore({ db }).append([userCreated('alice')], { actor, at: AT });
    db.close();
    const again = reopen(t, path);
    assert.equal(count(again, 'events'), 1);
  });

  it('refuses a database written by a newer schema version', (t) => {
    const { db, path } = openFile(t);
    db.exec(`PRAGMA user_version = ${MIGRATIONS.length + 1}`);
    db.close();
    assert.throws(() => openDatabase(path), /newer than this MCM understands/);
  });
});

describe('sqlite event store: append and read [DESIGN §4]', () => {
  it('an empty log has head 0 and the initial state; appending [] writes nothing', (t) => {
    const { db } = openFile(t);
    const store = createSqliteEventStore({ db });
    assert.equal(store.headSeq(), 0);
    assert.deepEqual(store.state(), initialState());
    assert.deepEqual(store.append([], { actor, at: AT }), []);
    assert.equal(count(db, 'events'), 0);
    assert.equal(count(db, 'chain_head'), 0);
  });

  it('assigns seq 1..n, the stream and version, and chains sha256(prev_hash || canonical JSON) from 64 zeros', (t) => {
    const { db } = openFile(t);
    const store = createSqliteEventStore({ db });
    const recorded = store.append([userCreated('alice'), roleDefined('ops'), granted('alice', 'ops')], { actor, at: AT });
    assert.deepEqual(recorded.map((e) => [e.seq, e.stream, e.type, e.version]), [
      [1, 'mqtt-user:alice', 'MqttUserCreated', 1],
      [2, 'role:ops', 'RoleDefined', 1],
      [3, 'mqtt-user:alice', 'RoleGranted', 1],
    ]);
    let prev = GENESIS_HASH;
    for (const e of recorded) {
      const { seq, stream, type, version, data, at } = e;
      const expected = createHash('sha256').update(prev + canonicalJson({ seq, stream, type, version, data, actor: e.actor, at })).digest('hex');
      assert.equal(e.prev_hash, prev);
      assert.equal(e.hash, expected);
      prev = e.hash;
    }
    const head = db.prepare('SELECT seq, hash FROM chain_head').get() as { seq: number; hash: string };
    assert.deepEqual({ ...head }, { seq: 3, hash: prev });
    assert.deepEqual(store.read(), recorded);
    assert.equal(store.headSeq(), 3);
  });

  it('folds appended events into the state', (t) => {
    const { db } = openFile(t);
    const store = createSqliteEventStore({ db });
    store.append([userCreated('alice'), roleDefined('ops'), granted('alice', 'ops')], { actor, at: AT });
    const state = store.state();
    assert.equal(state.seq, 3);
    assert.deepEqual(state.users['alice']?.roles, ['ops']);
    assert.equal(state.roles['ops']?.name, 'ops');
  });

  it('stores the actor without undefined members and hands out copies of the payload', (t) => {
    const { db } = openFile(t);
    const store = createSqliteEventStore({ db });
    const event = userCreated('alice');
    const [recorded] = store.append([event], { actor: { kind: 'cli', id: 'ops', ip: undefined }, at: AT });
    assert.deepEqual(recorded?.actor, { kind: 'cli', id: 'ops' });
    (event.data as { description: string }).description = 'mutated by the caller';
    assert.equal(store.state().users['alice']?.description, 'user alice');
  });

  it('reads by range, stream and limit, in seq order', (t) => {
    const { db } = openFile(t);
    const store = createSqliteEventStore({ db });
    store.append([userCreated('a'), userCreated('b'), described('a', 'x'), described('b', 'y'), described('a', 'z')], { actor, at: AT });
    const seqs = (es: readonly EventEnvelope[]): number[] => es.map((e) => e.seq);
    assert.deepEqual(seqs(store.read({ after: 2 })), [3, 4, 5]);
    assert.deepEqual(seqs(store.read({ to: 2 })), [1, 2]);
    assert.deepEqual(seqs(store.read({ after: 1, to: 4 })), [2, 3, 4]);
    assert.deepEqual(seqs(store.read({ stream: 'mqtt-user:a' })), [1, 3, 5]);
    assert.deepEqual(seqs(store.read({ stream: 'mqtt-user:a', after: 1, limit: 1 })), [3]);
    assert.deepEqual(seqs(store.read({ limit: 2 })), [1, 2]);
    assert.equal(store.lastSeqOf('mqtt-user:a'), 5);
    assert.equal(store.lastSeqOf('mqtt-user:b'), 4);
    assert.equal(store.lastSeqOf('mqtt-user:nobody'), 0);
  });

  it('upcasts on read: a row with a version this code does not know is refused, not guessed', (t) => {
    const { db } = openFile(t);
    const store = createSqliteEventStore({ db });
    store.append([userCreated('a')], { actor, at: AT });
    db.exec('UPDATE events SET version = 99');
    assert.throws(() => store.read(), isCode('MCM_ERR_EVENT_UNKNOWN'));
  });
});

describe('sqlite event store: optimistic concurrency [DESIGN §4]', () => {
  it('is stale only when the target stream moved after expectedSeq', (t) => {
    const { db } = openFile(t);
    const store = createSqliteEventStore({ db });
    store.append([userCreated('alice')], { actor, at: AT }); // 1
    store.append([userCreated('bob')], { actor, at: AT }); // 2
    // A client that read seq 1 may still change alice: bob's write is another entity.
    const ok = store.append([described('alice', 'v2')], { actor, at: AT, expectedSeq: 1, targetStream: 'mqtt-user:alice' });
    assert.equal(ok[0]?.seq, 3);
    const before = structuredClone(store.state());
    assert.throws(
      () => store.append([described('alice', 'v3')], { actor, at: AT, expectedSeq: 2, targetStream: 'mqtt-user:alice' }),
      (e: unknown) => isCode('MCM_ERR_STALE_STREAM')(e) && isDomainError(e) && e.details[0]?.['current_seq'] === 3,
    );
    assert.equal(count(db, 'events'), 3, 'nothing written');
    assert.equal(store.headSeq(), 3);
    assert.deepEqual(store.state(), before);
  });

  it('without a target stream, the streams the batch writes stand in for it', (t) => {
    const { db } = openFile(t);
    const store = createSqliteEventStore({ db });
    store.append([userCreated('alice'), userCreated('bob')], { actor, at: AT });
    store.append([described('bob', 'x')], { actor, at: AT }); // 3
    assert.equal(store.append([described('alice', 'y')], { actor, at: AT, expectedSeq: 2 })[0]?.seq, 4);
    assert.throws(() => store.append([described('bob', 'z')], { actor, at: AT, expectedSeq: 2 }), isCode('MCM_ERR_STALE_STREAM'));
  });
});

describe('sqlite event store: atomicity', () => {
  const assertUntouched = (db: DatabaseSync, store: ReturnType<typeof createSqliteEventStore>, headBefore: number): void => {
    assert.equal(count(db, 'events'), headBefore);
    assert.equal(store.headSeq(), headBefore);
    assert.equal(store.state().users['alice'], undefined, 'state untouched');
    assert.equal(store.verify().ok, true);
  };

  it('a batch whose second insert fails leaves nothing behind, and the chain continues', (t) => {
    const { db } = openFile(t);
    const store = createSqliteEventStore({ db });
    store.append([userCreated('zed')], { actor, at: AT });
    db.exec(`CREATE TRIGGER boom BEFORE INSERT ON events WHEN NEW.stream = 'mqtt-user:boom'
             BEGIN SELECT RAISE(ABORT, 'boom'); END`);
    assert.throws(() => store.append([userCreated('alice'), userCreated('boom')], { actor, at: AT }), /boom/);
    assertUntouched(db, store, 1);
    assert.equal((db.prepare('SELECT seq FROM chain_head').get() as { seq: number }).seq, 1);
    assert.equal(store.append([userCreated('carol')], { actor, at: AT })[0]?.seq, 2);
    assert.equal(store.verify().ok, true);
  });

  it('a payload that cannot be serialised fails the whole batch', (t) => {
    const { db } = openFile(t);
    const store = createSqliteEventStore({ db });
    const bad = { type: 'MqttUserDescribed', data: { username: 'alice', description: 10n } } as unknown as DomainEvent;
    assert.throws(() => store.append([userCreated('alice'), bad], { actor, at: AT }), TypeError);
    assertUntouched(db, store, 0);
  });

  it('an unknown event type fails the whole batch with MCM_ERR_EVENT_UNKNOWN', (t) => {
    const { db } = openFile(t);
    const store = createSqliteEventStore({ db });
    const bad = { type: 'NotAnEvent', data: { username: 'alice' } } as unknown as DomainEvent;
    assert.throws(() => store.append([userCreated('alice'), bad], { actor, at: AT }), isCode('MCM_ERR_EVENT_UNKNOWN'));
    assertUntouched(db, store, 0);
  });
});

describe('sqlite event store: listeners', () => {
  it('calls listeners synchronously after commit with the recorded envelopes; a throwing one is reported, not fatal', (t) => {
    const { db } = openFile(t);
    const errors: unknown[] = [];
    const store = createSqliteEventStore({ db, onListenerError: (e) => errors.push(e) });
    const seen: number[][] = [];
    store.onAppend(() => { throw new Error('listener bug'); });
    const off = store.onAppend((recorded) => {
      // committed already: another reader sees the rows
      assert.equal(db.isTransaction, false);
      seen.push(recorded.map((e) => e.seq));
    });
    const recorded = store.append([userCreated('a'), userCreated('b')], { actor, at: AT });
    assert.deepEqual(recorded.map((e) => e.seq), [1, 2]);
    assert.deepEqual(seen, [[1, 2]]);
    assert.equal(errors.length, 1);
    assert.throws(() => store.append([userCreated('a')], { actor, at: AT, expectedSeq: 0, targetStream: 'mqtt-user:a' }));
    assert.deepEqual(seen, [[1, 2]], 'a failed append notifies nobody');
    off();
    store.append([userCreated('c')], { actor, at: AT });
    assert.deepEqual(seen, [[1, 2]], 'unsubscribed');
  });
});

describe('sqlite event store: reopening and snapshots [DESIGN §4]', () => {
  /** The snapshots' HMAC key (secrets/snapshot.key in a server). */
  const KEY = Buffer.alloc(32, 7);
  /** 95 events in uneven batches, so snapshot boundaries fall inside batches; returns the heads. */
  const fill = (store: ReturnType<typeof createSqliteEventStore>): number[] => {
    const heads = [store.append([roleDefined('ops'), roleDefined('ro')], { actor, at: AT }).at(-1)!.seq];
    for (let i = 0; i < 31; i++) {
      const at = `2026-01-02T03:04:${String(i).padStart(2, '0')}.000Z`;
      const events = [userCreated(`u${i}`), granted(`u${i}`, i % 2 ? 'ops' : 'ro'), described(`u${i}`, `#${i}`)];
      const split = i % 3; // batches of 3, or 1 + 2, or 2 + 1
      for (const batch of split === 0 ? [events] : [events.slice(0, split), events.slice(split)]) {
        heads.push(store.append(batch, { actor, at }).at(-1)!.seq);
      }
    }
    return heads;
  };

  it('a reopened file has the same head, state and events', (t) => {
    const { db, path } = openFile(t);
    const store = createSqliteEventStore({ db });
    fill(store);
    const state = structuredClone(store.state());
    const events = store.read();
    db.close();
    const again = createSqliteEventStore({ db: reopen(t, path) });
    assert.equal(again.headSeq(), 95);
    assert.deepEqual(again.state(), state);
    assert.deepEqual(again.read(), events);
    assert.equal(again.append([userCreated('late')], { actor, at: AT })[0]?.seq, 96);
    assert.equal(again.verify().ok, true);
  });

  it('writes a snapshot every N events and keeps only the newest few', (t) => {
    const { db } = openFile(t);
    const heads = fill(createSqliteEventStore({ db, snapshotEvery: 10, snapshotKey: KEY }));
    // A snapshot is taken at the head of the batch that crosses each multiple of 10.
    const crossing = heads.filter((h, i) => Math.floor(h / 10) > Math.floor((heads[i - 1] ?? 0) / 10));
    assert.equal(crossing.length, 9);
    const rows = db.prepare('SELECT s.seq AS seq, s.event_hash = e.hash AS same FROM snapshots s JOIN events e USING (seq) ORDER BY seq').all();
    assert.deepEqual(rows.map((r) => [r['seq'], r['same']]), crossing.slice(-2).map((seq) => [seq, 1]));
  });

  it('deleting the snapshots changes nothing but start-up time', (t) => {
    const { db, path } = openFile(t);
    const live = createSqliteEventStore({ db, snapshotEvery: 10, snapshotKey: KEY });
    fill(live);
    const expected = structuredClone(live.state());
    db.close();

    const withSnapshots = reopen(t, path);
    assert.ok(count(withSnapshots, 'snapshots') > 0);
    assert.deepEqual(createSqliteEventStore({ db: withSnapshots, snapshotEvery: 10, snapshotKey: KEY }).state(), expected);
    withSnapshots.exec('DELETE FROM snapshots');
    withSnapshots.close();

    const without = reopen(t, path);
    assert.deepEqual(createSqliteEventStore({ db: without, snapshotEvery: 0 }).state(), expected);
    assert.equal(count(without, 'snapshots'), 0, 'snapshotEvery 0 writes none');
  });

  it('starts from the newest valid snapshot and folds only the events after it', (t) => {
    const { db, path } = openFile(t);
    const store = createSqliteEventStore({ db, snapshotEvery: 0 });
    fill(store);
    // Mark a snapshot at seq 90 so its use is visible: a cache is trusted when its hash matches.
    const marked = fold(store.read({ to: 90 }));
    marked.roles['from-snapshot'] = { name: 'from-snapshot', description: '', createdAt: AT, updatedAt: AT };
    const hash90 = (db.prepare('SELECT hash FROM events WHERE seq = 90').get() as { hash: string }).hash;
    const text = JSON.stringify({ format: SNAPSHOT_FORMAT, state: marked });
    db.prepare('INSERT INTO snapshots (seq, state, event_hash, mac) VALUES (?, ?, ?, ?)').run(90, text, hash90, snapshotMac(KEY, 90, hash90, text));
    const expected = structuredClone(store.state());
    db.close();
    const again = createSqliteEventStore({ db: reopen(t, path), snapshotKey: KEY });
    assert.ok(again.state().roles['from-snapshot'], 'the snapshot was used');
    delete again.state().roles['from-snapshot'];
    assert.deepEqual(again.state(), expected, 'events 91..95 folded on top');
  });

  it('ignores a stale, foreign or unreadable snapshot and folds from the log instead', (t) => {
    const { db, path } = openFile(t);
    const store = createSqliteEventStore({ db, snapshotEvery: 0 });
    fill(store);
    const expected = structuredClone(store.state());
    const forged = structuredClone(expected);
    forged.users['mallory'] = { ...expected.users['u1']!, username: 'mallory' };
    const headHash = (db.prepare('SELECT hash FROM events WHERE seq = 95').get() as { hash: string }).hash;
    const put = db.prepare('INSERT INTO snapshots (seq, state, event_hash) VALUES (?, ?, ?)');
    put.run(95, JSON.stringify({ format: SNAPSHOT_FORMAT, state: forged }), 'f'.repeat(64)); // foreign: not this log's hash
    put.run(94, JSON.stringify({ format: 999, state: forged }), (db.prepare('SELECT hash FROM events WHERE seq = 94').get() as { hash: string }).hash);
    put.run(93, '{not json', (db.prepare('SELECT hash FROM events WHERE seq = 93').get() as { hash: string }).hash);
    put.run(500, JSON.stringify({ format: SNAPSHOT_FORMAT, state: forged }), headHash); // beyond the head
    db.close();
    assert.deepEqual(createSqliteEventStore({ db: reopen(t, path) }).state(), expected);
  });

  it('given a snapshot edited to add an admin, then it is ignored (reported), the state is folded from the log, and verifySnapshots names it', (t) => {
    const { db, path } = openFile(t);
    const store = createSqliteEventStore({ db, snapshotEvery: 10, snapshotKey: KEY });
    fill(store);
    const expected = structuredClone(store.state());
    const newest = db.prepare('SELECT seq, state FROM snapshots ORDER BY seq DESC LIMIT 1').get() as { seq: number; state: string };
    const doctored = JSON.parse(newest.state) as { format: number; state: typeof expected };
    doctored.state.adminUsers['mallory'] = { ...ev.adminCreated('mallory', 'admin').data, passwordHash: BCRYPT_A, disabled: false, tokenVersion: 0, mfa: { enabled: false, secretCiphertext: null, recoveryCodeHashes: [], pending: null }, createdAt: AT, updatedAt: AT } as never;
    db.prepare('UPDATE snapshots SET state = ? WHERE seq = ?').run(JSON.stringify(doctored), newest.seq);
    assert.deepEqual(verifySnapshots(db, KEY).bad.map((b) => b.seq), [newest.seq]);
    db.close();
    const rejected: number[] = [];
    const again = createSqliteEventStore({ db: reopen(t, path), snapshotKey: KEY, onSnapshotRejected: (seq) => rejected.push(seq) });
    assert.deepEqual(rejected, [newest.seq]);
    assert.equal(again.state().adminUsers['mallory'], undefined, 'the doctored admin is not in the state');
    assert.deepEqual(again.state(), expected);
  });

  it('without the key, snapshots are neither written nor trusted', (t) => {
    const { db } = openFile(t);
    const store = createSqliteEventStore({ db, snapshotEvery: 2 });
    fill(store);
    assert.equal(count(db, 'snapshots'), 0);
  });

  it('round-trips names such as __proto__ through snapshots', (t) => {
    const { db, path } = openFile(t);
    const store = createSqliteEventStore({ db, snapshotEvery: 2, snapshotKey: KEY });
    store.append([userCreated('__proto__'), roleDefined('constructor'), granted('__proto__', 'constructor')], { actor, at: AT });
    const expected = structuredClone(store.state());
    assert.ok(Object.hasOwn(expected.users, '__proto__'));
    db.close();
    const again = createSqliteEventStore({ db: reopen(t, path), snapshotKey: KEY });
    assert.deepEqual(again.state(), expected);
    assert.deepEqual(again.state().users['__proto__']?.roles, ['constructor']);
  });

  it('a failing snapshot write never fails the append', (t) => {
    const { db } = openFile(t);
    db.exec("CREATE TRIGGER no_snapshots BEFORE INSERT ON snapshots BEGIN SELECT RAISE(ABORT, 'disk says no'); END");
    const errors: unknown[] = [];
    const store = createSqliteEventStore({ db, snapshotEvery: 2, snapshotKey: KEY, onSnapshotError: (e) => errors.push(e) });
    const recorded = store.append([userCreated('a'), userCreated('b'), userCreated('c')], { actor, at: AT });
    assert.equal(recorded.length, 3);
    assert.equal(count(db, 'events'), 3);
    assert.equal(errors.length, 1);
    assert.equal(db.isTransaction, false);
  });
});

describe('sqlite event store: more than one connection', () => {
  it('catches up with rows another connection appended, so the chain never forks', (t) => {
    const { db, path } = openFile(t);
    const a = createSqliteEventStore({ db });
    const b = createSqliteEventStore({ db: reopen(t, path) });
    const seenByB: number[] = [];
    b.onAppend((recorded) => seenByB.push(...recorded.map((e) => e.seq)));
    a.append([userCreated('from-a')], { actor, at: AT });
    const [mine] = b.append([userCreated('from-b')], { actor, at: AT });
    assert.equal(mine?.seq, 2);
    assert.deepEqual(Object.keys(b.state().users).sort(), ['from-a', 'from-b']);
    assert.deepEqual(seenByB, [1, 2], 'listeners hear the caught-up event too');
    assert.equal(b.verify().ok, true);
  });
});

describe('sqlite event store: durability', () => {
  it('an acknowledged append survives SIGKILL of the process', async (t) => {
    const dir = tempDir(t);
    const path = join(dir, 'mcm.db');
    const script = join(dir, 'writer.mjs');
    const root = new URL('../../', import.meta.url).href;
    writeFileSync(script, `
      const { openDatabase } = await import(${JSON.stringify(`${root}adapters/sqlite/open-database.ts`)});
      const { createSqliteEventStore } = await import(${JSON.stringify(`${root}adapters/sqlite/event-store.ts`)});
      const store = createSqliteEventStore({ db: openDatabase(${JSON.stringify(path)}) });
      const [e] = store.append([{ type: 'RoleDefined', data: { role: 'survivor', description: '' } }], { actor: { kind: 'system', id: 't' }, at: ${JSON.stringify(AT)} });
      process.stdout.write('acked ' + e.seq + '\\n');
      setInterval(() => {}, 1000);
    `);
    const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'pipe'] });
    t.after(() => { if (child.exitCode === null) child.kill('SIGKILL'); });
    let out = '';
    let err = '';
    child.stderr.on('data', (b: Buffer) => { err += b.toString(); });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ack within 20 s: ${err}`)), 20_000);
      child.stdout.on('data', (b: Buffer) => { out += b.toString(); if (out.includes('\n')) { clearTimeout(timer); resolve(); } });
      child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`writer exited ${code}: ${err}`)); });
    });
    assert.equal(out.trim(), 'acked 1');
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    const store = createSqliteEventStore({ db: reopen(t, path) });
    assert.equal(store.headSeq(), 1);
    assert.equal(store.state().roles['survivor']?.name, 'survivor');
    assert.equal(store.verify().ok, true);
  });
});
