/**
 * The webhook outbox table (migration 2): claims count the attempt and lease the row, so it is
 * never sent twice at once and is retried if the process dies mid-send; terminal states stay
 * terminal; old delivered/dead rows are pruned.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openDatabase } from '../../adapters/sqlite/open-database.ts';
import { createWebhookOutbox } from '../../adapters/webhooks/outbox.ts';

const T0 = '2026-01-01T00:00:00.000Z';
const T1 = '2026-01-01T00:00:01.000Z';
const T2 = '2026-01-01T00:00:02.000Z';
const LEASE = '2026-01-01T00:00:15.000Z';
const LATER = '2026-01-01T00:00:16.000Z';

const setup = (t: import('node:test').TestContext) => {
  const db = openDatabase(':memory:');
  t.after(() => db.close());
  return { db, outbox: createWebhookOutbox({ db }) };
};

describe('webhook outbox', () => {
  it('claims due pending rows oldest first, counting the attempt and leasing them so a second claim gets nothing', (t) => {
    const { outbox } = setup(t);
    const ids = outbox.enqueue([1, 2, 3].map((n) => ({ webhookId: 1, eventType: 'broker_down', data: { n } })), T0);
    assert.deepEqual(outbox.claim(T0, LEASE, 2).map((d) => [d.id, d.attempts, d.next_attempt_at]), [[ids[0], 1, LEASE], [ids[1], 1, LEASE]]);
    assert.deepEqual(outbox.claim(T1, LEASE, 10).map((d) => d.id), [ids[2]]);
    assert.deepEqual(outbox.claim(T2, LEASE, 10), [], 'all leased');
    // The process died mid-send: after the lease the rows are due again, the attempt counted.
    assert.deepEqual(outbox.claim(LATER, '2026-01-01T00:01:00.000Z', 10).map((d) => [d.id, d.attempts]), [[ids[0], 2], [ids[1], 2], [ids[2], 2]]);
  });

  it('does not claim rows not yet due, and says when the next one is', (t) => {
    const { outbox } = setup(t);
    const [id] = outbox.enqueue([{ webhookId: 1, eventType: 'broker_down', data: null }], T0);
    outbox.claim(T0, LEASE, 1);
    outbox.markRetry(id as number, { statusCode: 503, error: 'HTTP 503', nextAttemptAt: T2 });
    assert.equal(outbox.nextDueAt(), T2);
    assert.deepEqual(outbox.claim(T1, LEASE, 1), []);
    assert.equal(outbox.claim(T2, LEASE, 1)[0]?.last_status_code, 503);
  });

  it('keeps delivered and dead rows terminal: a late retry or a second outcome changes nothing', (t) => {
    const { outbox } = setup(t);
    const [a, b] = outbox.enqueue([{ webhookId: 1, eventType: 'x', data: 1 }, { webhookId: 1, eventType: 'x', data: 2 }], T0) as [number, number];
    outbox.markDelivered(a, 204, T1);
    outbox.markRetry(a, { statusCode: null, error: 'late', nextAttemptAt: T2 });
    outbox.markDead(b, { statusCode: 500, error: 'HTTP 500' });
    outbox.markDelivered(b, 200, T2);
    assert.deepEqual([outbox.get(a)?.status, outbox.get(a)?.last_status_code, outbox.get(a)?.delivered_at], ['delivered', 204, T1]);
    assert.deepEqual([outbox.get(b)?.status, outbox.get(b)?.last_error], ['dead', 'HTTP 500']);
    assert.equal(outbox.nextDueAt(), null);
  });

  it('abandons only the pending rows of one webhook, and prunes old terminal rows only', (t) => {
    const { outbox } = setup(t);
    const [p1, d1] = outbox.enqueue([{ webhookId: 1, eventType: 'x', data: 1 }, { webhookId: 1, eventType: 'x', data: 2 }], T0) as [number, number];
    const [p2] = outbox.enqueue([{ webhookId: 2, eventType: 'x', data: 3 }], T0) as [number];
    outbox.markDelivered(d1, 200, T1);
    assert.equal(outbox.abandon(1, 'webhook deleted'), 1);
    assert.deepEqual([outbox.get(p1)?.status, outbox.get(p1)?.last_error], ['dead', 'webhook deleted']);
    assert.equal(outbox.get(p2)?.status, 'pending');
    assert.equal(outbox.prune(T1), 2, 'the dead and the delivered row of webhook 1');
    assert.equal(outbox.get(p2)?.status, 'pending', 'pending rows are never pruned');
  });

  it('refuses a status outside pending/delivered/dead at the table (CHECK constraint)', (t) => {
    const { db } = setup(t);
    assert.throws(() => db.prepare(
      "INSERT INTO webhook_deliveries (webhook_id, event_type, payload, status, next_attempt_at, created_at) VALUES (1, 'x', '{}', 'sent', ?, ?)",
    ).run(T0, T0), /CHECK constraint/);
  });

  it('moves the catch-up cursor with the rows it queues: both commit, or neither (a plan that throws leaves both)', (t) => {
    const { outbox } = setup(t);
    assert.equal(outbox.cursor(), 0);
    const seen: number[] = [];
    const ids = outbox.advance((cursor) => { seen.push(cursor); return { rows: [{ webhookId: 1, eventType: 'event_appended', data: { seq: 1 } }], through: 3 }; }, T0);
    assert.deepEqual(seen, [0]);
    assert.equal(ids.length, 1);
    assert.equal(outbox.cursor(), 3);
    assert.throws(() => outbox.advance(() => { throw new Error('decided nothing'); }, T0), /decided nothing/);
    assert.throws(() => outbox.advance(() => ({ rows: [{ webhookId: 1, eventType: 'x', data: 2 }], through: 3 }), T0), /only move forward/);
    assert.equal(outbox.cursor(), 3);
    assert.deepEqual(outbox.list(1, { limit: 10 }).items.map((d) => d.data), [{ seq: 1 }], 'no row from the refused steps');
    assert.deepEqual(outbox.advance(() => null, T0), []);
    assert.equal(outbox.cursor(), 3);
  });
});
