/**
 * A full disk and a database locked by another process are conditions an operator meets, not
 * bugs (issue 8, "Faults"): the event log refuses the write with a stable code and changes
 * nothing, HTTP answers 507 / 503 + Retry-After instead of 500, and the same write goes through
 * once the condition is gone. SQLITE_FULL is produced with `PRAGMA max_page_count` (no mount
 * needed); bench/reliability/full-disk.ts does it with a real full tmpfs.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, it, type TestContext } from 'node:test';
import { DomainError, ERROR_CODES } from '../../core/errors.ts';
import type { DomainEvent } from '../../core/events.ts';
import { statusForCode } from '../../adapters/http/errors.ts';
import { createSqliteEventStore } from '../../adapters/sqlite/event-store.ts';
import { OPEN_BUSY_TIMEOUT_MS, openDatabase, SERVER_BUSY_TIMEOUT_MS } from '../../adapters/sqlite/open-database.ts';
import { storageErrorOf, STORAGE_BUSY_RETRY_AFTER_S } from '../../adapters/sqlite/storage-errors.ts';
import { createTestApp, ROLE_USERS, TEST_PASSWORD } from '../helpers/http.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const sqliteError = (errcode: number, errstr: string): Error => Object.assign(new Error(errstr), { code: 'ERR_SQLITE_ERROR', errcode, errstr });

const userCreated = (username: string): DomainEvent =>
  ({ type: 'MqttUserCreated', data: { username, passwordHash: '$7$101$c2FsdHNhbHRzYWx0$aGFzaA==', description: '', disabled: false } }) as DomainEvent;
const meta = { actor: { kind: 'system' as const, id: 'test' }, at: '2026-01-01T00:00:00.000Z' };

/** Another connection holding the write lock until `release()` (what a stray `sqlite3` or script does). */
const lockFrom = (path: string): { release(): void } => {
  const other = new DatabaseSync(path);
  other.exec('BEGIN EXCLUSIVE');
  return { release: () => { other.exec('COMMIT'); other.close(); } };
};

/** Makes the database "full": it may not grow past the pages it has now. */
const fill = (db: DatabaseSync): { free(): void } => {
  const { page_count: pages } = db.prepare('PRAGMA page_count').get() as { page_count: number };
  db.exec(`PRAGMA max_page_count = ${pages}`);
  return { free: () => { db.exec('PRAGMA max_page_count = 1073741823'); } };
};

const storeIn = (t: TestContext) => {
  const path = join(tempDir(t, 'mcm-storage-'), 'mcm.db');
  const db = openDatabase(path, { busyTimeoutMs: 50 });
  t.after(() => db.close());
  return { path, db, store: createSqliteEventStore({ db, snapshotEvery: 0 }) };
};

describe('storageErrorOf: node:sqlite and fs errors → stable codes', () => {
  it('maps SQLITE_FULL, SQLITE_BUSY, SQLITE_LOCKED (and their extended codes), ENOSPC and EDQUOT; nothing else', () => {
    assert.equal(storageErrorOf(sqliteError(13, 'database or disk is full'))?.code, ERROR_CODES.STORAGE_FULL);
    assert.equal(storageErrorOf(sqliteError(5, 'database is locked'))?.code, ERROR_CODES.STORAGE_BUSY);
    assert.equal(storageErrorOf(sqliteError(517, 'database is locked'))?.code, ERROR_CODES.STORAGE_BUSY); // SQLITE_BUSY_SNAPSHOT
    assert.equal(storageErrorOf(sqliteError(6, 'database table is locked'))?.code, ERROR_CODES.STORAGE_BUSY);
    assert.equal(storageErrorOf(Object.assign(new Error('no space'), { code: 'ENOSPC' }))?.code, ERROR_CODES.STORAGE_FULL);
    assert.equal(storageErrorOf(Object.assign(new Error('quota'), { code: 'EDQUOT' }))?.code, ERROR_CODES.STORAGE_FULL);
    assert.equal(storageErrorOf(sqliteError(19, 'UNIQUE constraint failed')), null);
    assert.equal(storageErrorOf(Object.assign(new Error('denied'), { code: 'EACCES' })), null);
    assert.equal(storageErrorOf(new DomainError(ERROR_CODES.VALIDATION, 'x')), null);
    assert.match(storageErrorOf(sqliteError(13, 'database or disk is full'), 'the event log')?.message ?? '', /^the event log cannot be written: the disk of the data dir is full/);
  });

  it('HTTP statuses: 507 Insufficient Storage for a full disk, 503 for a locked database', () => {
    assert.equal(statusForCode(ERROR_CODES.STORAGE_FULL), 507);
    assert.equal(statusForCode(ERROR_CODES.STORAGE_BUSY), 503);
  });
});

describe('the event log on a full disk or a locked database', () => {
  it('a locked database: the append is refused with MCM_ERR_STORAGE_BUSY, nothing changes, and it goes through once the lock goes', (t) => {
    const { path, store } = storeIn(t);
    store.append([userCreated('before')], meta);
    const lock = lockFrom(path);
    let released = false;
    t.after(() => { if (!released) lock.release(); });
    assert.throws(() => store.append([userCreated('locked')], meta), (e: DomainError) => e.code === ERROR_CODES.STORAGE_BUSY && /locked by another process/.test(e.message));
    assert.equal(store.headSeq(), 1);
    assert.equal(Object.hasOwn(store.state().users, 'locked'), false);
    lock.release();
    released = true;
    assert.equal(store.append([userCreated('after')], meta)[0]?.seq, 2);
    assert.equal(store.verify().ok, true);
  });

  it('a full disk: the append is refused with MCM_ERR_STORAGE_FULL, head and state unchanged, the chain intact; it goes through once space returns', (t) => {
    const { db, store } = storeIn(t);
    store.append([userCreated('before')], meta);
    const full = fill(db);
    // Large enough to need a page the database may not add.
    const big = { type: 'MqttUserCreated', data: { username: 'big', passwordHash: '$7$101$c2FsdA==$aGFzaA==', description: 'x'.repeat(4000), disabled: false } } as DomainEvent;
    assert.throws(() => store.append([big], meta), (e: DomainError) => e.code === ERROR_CODES.STORAGE_FULL && /disk of the data dir is full/.test(e.message));
    assert.equal(store.headSeq(), 1);
    assert.equal(Object.hasOwn(store.state().users, 'big'), false);
    assert.deepEqual(store.verify(), { ok: true, count: 1, head: 1, head_hash: store.read()[0]?.hash });
    full.free();
    assert.equal(store.append([big], meta)[0]?.seq, 2);
    assert.equal(store.verify().ok, true);
  });
});

describe('HTTP on a full disk or a locked database', () => {
  it('a write on a locked database: 503 MCM_ERR_STORAGE_BUSY with Retry-After, never a 500; sign-in too; reads go on', async (t) => {
    const h = await createTestApp(t);
    const token = await h.tokenFor('operator');
    h.db.exec('PRAGMA busy_timeout = 50');
    const lock = lockFrom(join(h.dataDir, 'mcm.db'));
    let released = false;
    t.after(() => { if (!released) lock.release(); });
    const before = h.eventCount();
    const res = await h.request('POST', '/api/v1/mqtt-users', { token, body: { username: 'locked-out', password: 'a-long-Pa55word' } });
    assert.equal(res.status, 503, res.text);
    assert.equal(res.body.error.code, 'MCM_ERR_STORAGE_BUSY');
    assert.equal(res.headers.get('retry-after'), String(STORAGE_BUSY_RETRY_AFTER_S));
    assert.equal(h.eventCount(), before);
    // Sign-in records a security event: the same condition, the same answer (not a 500).
    const login = await h.login(ROLE_USERS.operator, TEST_PASSWORD);
    assert.equal(login.status, 503, login.text);
    assert.equal(login.body.error.code, 'MCM_ERR_STORAGE_BUSY');
    assert.equal((await h.request('GET', '/api/v1/mqtt-users', { token })).status, 200);
    assert.equal((await h.request('GET', '/api/v1/events/verify', { token })).status, 200);
    lock.release();
    released = true;
    assert.equal((await h.request('POST', '/api/v1/mqtt-users', { token, body: { username: 'locked-out', password: 'a-long-Pa55word' } })).status, 201);
  });

  it('a write on a full disk: 507 MCM_ERR_STORAGE_FULL with a message saying so; reads go on; it goes through once space returns', async (t) => {
    const h = await createTestApp(t);
    const token = await h.tokenFor('operator');
    const full = fill(h.db);
    // Writes go on while they fit in the pages the database has; the first that needs one more is refused.
    let res = null;
    let before = 0;
    const body = (i: number) => ({ username: `no-room-${i}`, password: 'a-long-Pa55word', description: 'x'.repeat(1000) });
    for (let i = 0; i < 50; i++) {
      before = h.eventCount();
      res = await h.request('POST', '/api/v1/mqtt-users', { token, body: body(i) });
      if (res.status !== 201) break;
    }
    assert.ok(res);
    assert.equal(res.status, 507, res.text);
    assert.equal(res.body.error.code, 'MCM_ERR_STORAGE_FULL');
    assert.match(res.body.error.message, /disk of the data dir is full.*free space on it and retry/);
    assert.equal(h.eventCount(), before);
    assert.equal((await h.request('GET', '/api/v1/events/verify', { token })).body.ok, true);
    full.free();
    assert.equal((await h.request('POST', '/api/v1/mqtt-users', { token, body: body(999) })).status, 201);
  });
});

describe('busy_timeout', () => {
  it('is OPEN_BUSY_TIMEOUT_MS while opening and migrating, then what the opener asks; the server asks for a short one', (t) => {
    const path = join(tempDir(t, 'mcm-busy-'), 'mcm.db');
    const value = (db: DatabaseSync): number => Number(Object.values(db.prepare('PRAGMA busy_timeout').get() as object)[0]);
    const cli = openDatabase(path);
    t.after(() => cli.close());
    assert.equal(value(cli), OPEN_BUSY_TIMEOUT_MS);
    const server = openDatabase(path, { busyTimeoutMs: SERVER_BUSY_TIMEOUT_MS });
    t.after(() => server.close());
    assert.equal(value(server), SERVER_BUSY_TIMEOUT_MS);
    // The whole process waits while DatabaseSync waits: a stuck lock must cost a write seconds at most.
    assert.ok(SERVER_BUSY_TIMEOUT_MS >= 250 && SERVER_BUSY_TIMEOUT_MS <= 2000);
  });
});
