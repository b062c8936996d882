import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import { describe, it, type TestContext } from 'node:test';
import { chainHash, chainHashOfText, createSqliteEventStore, verifyChain, type VerifyResult } from '../../adapters/sqlite/event-store.ts';
import { canonicalJson } from '../../core/canonical-json.ts';
import { openDatabase } from '../../adapters/sqlite/open-database.ts';
import type { Actor, DomainEvent } from '../../core/events.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const actor: Actor = { kind: 'admin', id: 'root' };
const AT = '2026-01-02T03:04:05.000Z';
const HASH = `$7$101$XKm0/ruYS/eOrtlr$${'A'.repeat(86)}==`;
const userCreated = (username: string): DomainEvent =>
  ({ type: 'MqttUserCreated', data: { username, passwordHash: HASH, description: '', disabled: false } });

type Row = { seq: number; stream: string; type: string; version: number; data: string; actor: string; at: string; prev_hash: string; hash: string };

/** A real database file with `n` events (seq 1..n), closed in t.after. */
const logOf = (t: TestContext, n: number): DatabaseSync => {
  const db = openDatabase(join(tempDir(t), 'mcm.db'));
  t.after(() => { if (db.isOpen) db.close(); });
  const store = createSqliteEventStore({ db });
  for (let i = 1; i <= n; i++) store.append([userCreated(`user${i}`)], { actor, at: AT });
  return db;
};

const row = (db: DatabaseSync, seq: number): Row => ({ ...(db.prepare('SELECT * FROM events WHERE seq = ?').get(seq) as Row) });

const failure = (r: VerifyResult): { first_bad_seq: number; reason: string } => {
  assert.equal(r.ok, false, 'tampering must be detected');
  return r.ok ? { first_bad_seq: -1, reason: '' } : { first_bad_seq: r.first_bad_seq, reason: r.reason };
};

describe('hash chain verification [DESIGN §4]', () => {
  it('an untouched chain verifies, naming its length and head', (t) => {
    const db = logOf(t, 5);
    const head = db.prepare('SELECT seq, hash FROM chain_head').get() as { seq: number; hash: string };
    assert.deepEqual(verifyChain(db), { ok: true, count: 5, head: 5, head_hash: head.hash });
    assert.deepEqual(createSqliteEventStore({ db }).verify(), verifyChain(db), 'store.verify is the same walk');
  });

  it('the append path\'s hash of canonical texts is chainHash of the same fields', () => {
    const data = { username: 'ünï "q"', roles: ['b', 'a'], nested: { z: 1, a: null }, n: 1.5 };
    const who = { kind: 'admin', id: 'root', ip: '::1', request_id: 'r-1' };
    for (const seq of [1, 123_456_789]) {
      const fields = { seq, stream: 'mqtt-user:ünï', type: 'MqttUserCreated', version: 2, at: AT };
      assert.equal(
        chainHashOfText('p'.repeat(64), { ...fields, dataText: canonicalJson(data), actorText: canonicalJson(who) }),
        chainHash('p'.repeat(64), { ...fields, data, actor: who }),
      );
    }
  });

  it('an empty log verifies', (t) => {
    const db = logOf(t, 0);
    assert.equal(verifyChain(db).ok, true);
  });

  it('catches an edited payload at its seq (hash mismatch)', (t) => {
    const db = logOf(t, 5);
    db.prepare('UPDATE events SET data = ? WHERE seq = 3').run(JSON.stringify({ ...JSON.parse(row(db, 3).data), disabled: true }));
    assert.deepEqual(failure(verifyChain(db)), { first_bad_seq: 3, reason: 'hash mismatch' });
  });

  for (const column of ['stream', 'type', 'at', 'actor', 'prev_hash', 'hash'] as const) {
    it(`catches an edited ${column} column`, (t) => {
      const db = logOf(t, 4);
      const value = column === 'actor' ? JSON.stringify({ kind: 'admin', id: 'mallory' })
        : column === 'type' ? 'MqttUserDeleted'
        : column === 'prev_hash' || column === 'hash' ? 'a'.repeat(64)
        : `${row(db, 2)[column]}x`;
      db.prepare(`UPDATE events SET ${column} = ? WHERE seq = 2`).run(value);
      assert.deepEqual(failure(verifyChain(db)), { first_bad_seq: 2, reason: 'hash mismatch' });
    });
  }

  it('catches an edit whose row hash was recomputed: the next row no longer links (broken link)', (t) => {
    const db = logOf(t, 5);
    const r = row(db, 3);
    const data = { ...JSON.parse(r.data), description: 'forged' };
    const forged = chainHash(r.prev_hash, { ...r, data, actor: JSON.parse(r.actor) });
    db.prepare('UPDATE events SET data = ?, hash = ? WHERE seq = 3').run(JSON.stringify(data), forged);
    assert.deepEqual(failure(verifyChain(db)), { first_bad_seq: 4, reason: 'broken link' });
  });

  it('catches a deleted row in the middle (missing seq)', (t) => {
    const db = logOf(t, 5);
    db.exec('DELETE FROM events WHERE seq = 2');
    assert.deepEqual(failure(verifyChain(db)), { first_bad_seq: 2, reason: 'missing seq' });
  });

  it('catches two rows whose payloads were swapped', (t) => {
    const db = logOf(t, 5);
    const [a, b] = [row(db, 2), row(db, 4)];
    const swap = db.prepare('UPDATE events SET data = ?, stream = ? WHERE seq = ?');
    swap.run(b.data, b.stream, 2);
    swap.run(a.data, a.stream, 4);
    assert.deepEqual(failure(verifyChain(db)), { first_bad_seq: 2, reason: 'hash mismatch' });
  });

  it('catches two whole rows whose seqs were swapped', (t) => {
    const db = logOf(t, 5);
    db.exec('UPDATE events SET seq = -3 WHERE seq = 3');
    db.exec('UPDATE events SET seq = 3 WHERE seq = 4');
    db.exec('UPDATE events SET seq = 4 WHERE seq = -3');
    assert.deepEqual(failure(verifyChain(db)), { first_bad_seq: 3, reason: 'hash mismatch' });
  });

  it('catches a deleted tail through chain_head (head mismatch at the first missing seq)', (t) => {
    const db = logOf(t, 5);
    db.exec('DELETE FROM events WHERE seq >= 4');
    assert.deepEqual(failure(verifyChain(db)), { first_bad_seq: 4, reason: 'head mismatch' });
  });

  it('catches a row appended behind the store\'s back, even with a valid hash (head mismatch)', (t) => {
    const db = logOf(t, 3);
    const last = row(db, 3);
    const next = { seq: 4, stream: 'mqtt-user:mallory', type: 'MqttUserCreated', version: 1, data: { username: 'mallory', passwordHash: HASH, description: '', disabled: false }, actor, at: AT };
    db.prepare('INSERT INTO events (seq, stream, type, version, data, actor, at, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(4, next.stream, next.type, 1, JSON.stringify(next.data), JSON.stringify(actor), AT, last.hash, chainHash(last.hash, next));
    assert.deepEqual(failure(verifyChain(db)), { first_bad_seq: 4, reason: 'head mismatch' });
  });

  it('catches a chain_head whose hash was changed, or that was deleted', (t) => {
    const db = logOf(t, 3);
    db.exec(`UPDATE chain_head SET hash = '${'b'.repeat(64)}'`);
    assert.deepEqual(failure(verifyChain(db)), { first_bad_seq: 3, reason: 'head mismatch' });
    db.exec('DELETE FROM chain_head');
    assert.deepEqual(failure(verifyChain(db)), { first_bad_seq: 1, reason: 'head missing' });
  });

  it('reports a row whose payload is not JSON instead of throwing', (t) => {
    const db = logOf(t, 2);
    db.exec("UPDATE events SET data = '{broken' WHERE seq = 2");
    assert.deepEqual(failure(verifyChain(db)), { first_bad_seq: 2, reason: 'malformed row' });
  });

  it('leaves no transaction open, whatever the outcome', (t) => {
    const db = logOf(t, 2);
    verifyChain(db);
    assert.equal(db.isTransaction, false);
    db.exec('DELETE FROM events WHERE seq = 1');
    verifyChain(db);
    assert.equal(db.isTransaction, false);
  });
});
