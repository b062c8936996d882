/**
 * The hub's outgoing batch (adapters/ws/live-batch.ts): bus messages are fanned out once per
 * event-loop turn, topic messages coalesced per topic within it, and a delivery pass yields after
 * its time slice. Found by the load scenario (bench/reliability/load.ts): fanning out each MQTT
 * message at once to 200 ws clients cost a socket write per message per client, the observer fell
 * behind the broker and the live lag grew by a second every second.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLiveBatch, type LiveBatchOptions } from '../../adapters/ws/live-batch.ts';

type Msg = { id: string; topic?: string };
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

const setup = (options: Partial<LiveBatchOptions> = {}, now?: () => number) => {
  const delivered: { id: string; superseded: number }[] = [];
  const overflowed: string[] = [];
  let passes = 0;
  const batch = createLiveBatch<Msg>({
    options: { maxTopics: 1000, sliceMs: 20, ...options },
    deliver: (m, superseded) => { delivered.push({ id: m.id, superseded }); },
    overflow: (m) => { overflowed.push(m.id); },
    passDone: () => { passes++; },
    ...(now ? { now } : {}),
  });
  const add = (id: string, topic?: string): void => batch.add({ id, ...(topic ? { topic } : {}) }, topic);
  return { batch, add, delivered, overflowed, passes: () => passes };
};

describe('ws live batch: one fan-out per event-loop turn', () => {
  it('delivers at the next turn, in order, the latest message per topic standing for those it replaced', async () => {
    const b = setup();
    b.add('a1', 'plant/a');
    b.add('log1');
    b.add('b1', 'plant/b');
    b.add('a2', 'plant/a');
    b.add('a3', 'plant/a');
    assert.deepEqual(b.delivered, [], 'nothing is sent in the publishing turn');
    await turn();
    // a3 replaced a1 and a2 and took the place of the latest: a subsequence of what was published.
    assert.deepEqual(b.delivered, [
      { id: 'log1', superseded: 0 },
      { id: 'b1', superseded: 0 },
      { id: 'a3', superseded: 2 },
    ]);
    assert.equal(b.passes(), 1, 'one pass, so the hub uncorks each socket once');
    assert.equal(b.batch.pending(), 0);
  });

  it('never coalesces other messages, and does not coalesce across turns', async () => {
    const b = setup();
    b.add('log1');
    b.add('log2');
    b.add('a1', 'plant/a');
    await turn();
    b.add('a2', 'plant/a');
    await turn();
    assert.deepEqual(b.delivered.map((d) => d.id), ['log1', 'log2', 'a1', 'a2']);
    assert.ok(b.delivered.every((d) => d.superseded === 0));
  });

  it('yields after its time slice and delivers the rest at the next turn, coalescing what arrives meanwhile', async () => {
    let t = 0;
    const b = setup({ sliceMs: 10 }, () => t);
    const original = b.delivered.push.bind(b.delivered);
    // Each delivery "takes" 1 ms.
    b.delivered.push = (...items) => { t += items.length; return original(...items); };
    for (let i = 0; i < 100; i++) b.add(`m${i}`, `topic/${i}`);
    await turn();
    const first = b.delivered.length;
    assert.ok(first < 100, `the first pass stopped early (${first} delivered)`);
    assert.equal(b.passes(), 1);
    // A newer message for a topic still pending replaces it and moves to the end.
    b.add('m99-new', 'topic/99');
    b.add('m0-new', 'topic/0');
    while (b.batch.pending() > 0) await turn();
    const ids = b.delivered.map((d) => d.id);
    assert.equal(ids.includes('m99'), false, 'the pending m99 was replaced');
    assert.deepEqual(ids.slice(-2), ['m99-new', 'm0-new']);
    assert.equal(b.delivered.find((d) => d.id === 'm99-new')?.superseded, 1);
    assert.equal(ids.length, 101, 'every topic delivered once, plus the new m0 (m0 had gone out already)');
    assert.ok(b.passes() > 1);
  });

  it('hands a message for a new topic beyond maxTopics to overflow; pending topics still coalesce', async () => {
    const b = setup({ maxTopics: 2 });
    b.add('a1', 'a');
    b.add('b1', 'b');
    b.add('c1', 'c');
    b.add('a2', 'a');
    b.add('log');
    await turn();
    assert.deepEqual(b.overflowed, ['c1']);
    assert.deepEqual(b.delivered.map((d) => d.id), ['b1', 'a2', 'log']);
  });

  it('reports a delivery that throws and goes on with the others', async () => {
    const errors: unknown[] = [];
    const delivered: string[] = [];
    const batch = createLiveBatch<Msg>({
      options: { maxTopics: 10, sliceMs: 20 },
      deliver: (m) => { if (m.id === 'bad') throw new Error('boom'); delivered.push(m.id); },
      overflow: () => {},
      onError: (e) => { errors.push(e); },
    });
    for (const id of ['a', 'bad', 'b']) batch.add({ id });
    await turn();
    assert.deepEqual(delivered, ['a', 'b']);
    assert.equal((errors[0] as Error).message, 'boom');
  });

  it('forgets what is pending on close', async () => {
    const b = setup();
    b.add('a1', 'a');
    b.batch.close();
    b.add('a2', 'a');
    await turn();
    assert.deepEqual(b.delivered, []);
    assert.equal(b.batch.pending(), 0);
  });
});
