/**
 * Admin changes reach webhooks even when they were committed while no dispatcher queued them
 * (issue 12: "a webhook for an admin change is queued after the commit: a crash in between loses
 * it"). The outbox's cursor moves in the same transaction as the rows it queues, and a starting
 * dispatcher queues every event after it: once per (seq, webhook), never again on the next start.
 * The whole-process version (SIGKILL, a real `mcm server`) is tests/e2e/webhook-crash.test.ts.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import { describe, it, type TestContext } from 'node:test';
import { pino } from 'pino';
import { createLiveBus } from '../../adapters/live/live-bus.ts';
import { createSecretStore } from '../../adapters/secrets/secret-store.ts';
import { createSqliteEventStore, type SqliteEventStore } from '../../adapters/sqlite/event-store.ts';
import { openDatabase } from '../../adapters/sqlite/open-database.ts';
import { MIGRATIONS } from '../../adapters/sqlite/schema.ts';
import { createWebhookDispatcher, type WebhookDispatcher } from '../../adapters/webhooks/dispatcher.ts';
import type { Delivery } from '../../adapters/webhooks/outbox.ts';
import { sealWebhookSecret } from '../../adapters/webhooks/webhook-secret.ts';
import type { Command } from '../../core/commands.ts';
import { handleCommand } from '../../core/handle-command.ts';
import { HASH_A } from '../helpers/decider-spec.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const clock = { now: () => new Date().toISOString() };
const actor = { kind: 'cli', id: 'test' } as const;

/** One process's view of a data dir: its own connection, store and (not yet started) dispatcher. */
type Mcm = { db: DatabaseSync; store: SqliteEventStore; dispatcher: WebhookDispatcher; close(): Promise<void> };

const openMcm = (t: TestContext, dir: string): Mcm => {
  const db = openDatabase(join(dir, 'mcm.db'));
  const store = createSqliteEventStore({ db });
  // Nothing listens at port 9: every attempt fails fast, rows stay pending and countable.
  const dispatcher = createWebhookDispatcher({
    db, store, bus: createLiveBus(), secrets: createSecretStore(dir), clock,
    logger: pino({ level: 'silent' }),
    config: { webhooks: { allow_private: true, max_attempts: 100 } },
    retry: { baseMs: 60_000, capMs: 60_000 },
    fetch: async () => { throw new Error('ECONNREFUSED: no receiver in this test'); },
  });
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await dispatcher.stop();
    db.close();
  };
  t.after(close);
  return { db, store, dispatcher, close };
};

const run = (m: Mcm, command: Command): number => handleCommand({ store: m.store, clock }, command, { actor }).seq;
const addUser = (m: Mcm, username: string): number => run(m, { type: 'CreateMqttUser', data: { username, passwordHash: HASH_A } });
const addHook = (m: Mcm, dir: string): number => {
  const e = handleCommand({ store: m.store, clock }, {
    type: 'CreateWebhook',
    data: { url: 'http://127.0.0.1:9/hook', events: ['event_appended'], secretCiphertext: sealWebhookSecret(createSecretStore(dir), 'x'.repeat(40)) },
  }, { actor }).events[0];
  assert.ok(e?.type === 'WebhookCreated');
  return e.data.id;
};

/** The seqs a webhook has rows for, in order (duplicates kept: they are the bug). */
const queuedSeqs = (m: Mcm, hook: number): number[] =>
  m.dispatcher.outbox.list(hook, { limit: 5000 }).items.map((d: Delivery) => (d.data as { seq: number }).seq).sort((a, b) => a - b);

describe('webhook dispatcher: admin changes committed but not queued', () => {
  it('queues at start what was committed while no dispatcher ran (another writer, a crash), once per seq and webhook', async (t) => {
    const dir = tempDir(t, 'mcm-webhook-catch-up-');
    const server = openMcm(t, dir);
    server.dispatcher.start();
    const hook = addHook(server, dir);
    const live = addUser(server, 'live');
    assert.deepEqual(queuedSeqs(server, hook), [1, live], 'its own creation (seq 1), then the change');
    await server.close(); // the server is gone (stopped, or killed: the outbox is in the file)

    // Committed while no dispatcher runs: what a crash right after an append leaves behind.
    const cli = openMcm(t, dir);
    const missed = [addUser(cli, 'while-down-1'), addUser(cli, 'while-down-2')];
    await cli.close();

    const restarted = openMcm(t, dir);
    assert.deepEqual(queuedSeqs(restarted, hook), [1, live], 'before the start, nothing was queued for them');
    restarted.dispatcher.start();
    assert.deepEqual(queuedSeqs(restarted, hook), [1, live, ...missed], 'queued once each at start');
    const next = addUser(restarted, 'after');
    assert.deepEqual(queuedSeqs(restarted, hook), [1, live, ...missed, next]);
    assert.equal(restarted.dispatcher.outbox.cursor(), next);
    await restarted.close();

    const again = openMcm(t, dir);
    again.dispatcher.start();
    assert.deepEqual(queuedSeqs(again, hook), [1, live, ...missed, next], 'a second start queues nothing twice');
  });

  it('sends each change to the webhooks subscribed as of that change: not before a webhook existed, not while it was disabled', async (t) => {
    const dir = tempDir(t, 'mcm-webhook-catch-up-');
    const down = openMcm(t, dir);
    const early = addHook(down, dir);
    const before = addUser(down, 'before-late-hook');
    const late = addHook(down, dir);
    const after = addUser(down, 'after-late-hook');
    await down.close();

    const up = openMcm(t, dir);
    up.dispatcher.start();
    assert.deepEqual(queuedSeqs(up, early), [1, before, before + 1, after]);
    assert.deepEqual(queuedSeqs(up, late), [before + 1, after], 'its own creation onwards, nothing older');
    await up.close();

    const down2 = openMcm(t, dir);
    const off = run(down2, { type: 'UpdateWebhook', data: { id: early, enabled: false } });
    const whileOff = addUser(down2, 'while-disabled');
    const on = run(down2, { type: 'UpdateWebhook', data: { id: early, enabled: true } });
    const whileOn = addUser(down2, 'while-enabled');
    await down2.close();
    const up2 = openMcm(t, dir);
    up2.dispatcher.start();
    const got = queuedSeqs(up2, early);
    assert.deepEqual(got.slice(4), [on, whileOn], 'the change that enabled it and what followed; not its disabling nor what happened meanwhile');
    assert.ok(!got.includes(off) && !got.includes(whileOff));
  });

  it('writes the cursor no more than once a page while no webhook listens to admin changes', async (t) => {
    const dir = tempDir(t, 'mcm-webhook-catch-up-');
    const m = openMcm(t, dir);
    m.dispatcher.start();
    for (let i = 0; i < 10; i++) addUser(m, `quiet-${i}`);
    assert.equal(m.dispatcher.outbox.cursor(), 0, 'no write per change when nobody listens');
    const hook = addHook(m, dir);
    assert.equal(m.dispatcher.outbox.cursor(), 11, 'caught up (and written) once a webhook listens');
    assert.deepEqual(queuedSeqs(m, hook), [11], 'the new webhook gets its own creation, nothing from before it');
  });

  it('catches up a long gap in pages, each committed with its cursor', async (t) => {
    const dir = tempDir(t, 'mcm-webhook-catch-up-');
    const down = openMcm(t, dir);
    const hook = addHook(down, dir);
    const seqs = [1];
    for (let i = 0; i < 1200; i++) seqs.push(addUser(down, `bulk-${i}`));
    await down.close();
    const up = openMcm(t, dir);
    up.dispatcher.start();
    assert.deepEqual(queuedSeqs(up, hook), seqs);
    assert.equal(up.dispatcher.outbox.cursor(), seqs[seqs.length - 1]);
  });

  it('starts an existing log at its head when the cursor table arrives (migration): history is not re-sent', (t) => {
    const dir = tempDir(t, 'mcm-webhook-catch-up-');
    const db = openDatabase(join(dir, 'old.db'));
    t.after(() => db.close());
    const cursorMigration = MIGRATIONS.find((m) => m.includes('CREATE TABLE webhook_cursor'));
    assert.ok(cursorMigration);
    // A log written by a release without the cursor, then the cursor's migration run on it.
    db.exec('DROP TABLE webhook_cursor');
    const store = createSqliteEventStore({ db });
    for (const name of ['a', 'b', 'c']) handleCommand({ store, clock }, { type: 'CreateMqttUser', data: { username: name, passwordHash: HASH_A } }, { actor });
    db.exec(cursorMigration);
    assert.deepEqual(db.prepare('SELECT seq FROM webhook_cursor').all().map((r) => Number(r['seq'])), [3]);
  });
});
