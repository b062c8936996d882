/**
 * One client's bounded outgoing queue (DESIGN §7: slow clients get coalesced updates and a drop
 * counter, never unbounded buffers), against a fake socket whose buffered amount the test sets.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClientQueue, type ClientQueueOptions } from '../../adapters/ws/client-queue.ts';

const OPTIONS: ClientQueueOptions = { highWaterBytes: 100, maxQueued: 3, maxTopics: 2, flushMs: 5 };

const setup = (options: Partial<ClientQueueOptions> = {}) => {
  const sink = { bufferedAmount: 0, sent: [] as string[], send(data: string) { this.sent.push(data); } };
  let dropped = 0;
  let overflows = 0;
  const queue = createClientQueue({
    sink,
    options: { ...OPTIONS, ...options },
    onDrop: (n) => { dropped += n; },
    onOverflow: () => { overflows += 1; },
  });
  return { sink, queue, dropped: () => dropped, overflows: () => overflows };
};

describe('ws client queue', () => {
  it('sends at once while the socket is under the high-water mark', () => {
    const { sink, queue } = setup();
    queue.push('a', 't/1');
    queue.push('b');
    assert.deepEqual(sink.sent, ['a', 'b']);
    assert.equal(queue.pending(), 0);
    queue.close();
  });

  it('keeps only the latest message per topic while congested and counts the others as drops', async () => {
    const { sink, queue, dropped } = setup({ maxTopics: 10 });
    sink.bufferedAmount = 1_000;
    for (let i = 1; i <= 5; i++) {
      queue.push(`t1#${i}`, 't/1');
      queue.push(`t2#${i}`, 't/2');
    }
    assert.deepEqual(sink.sent, []);
    assert.equal(queue.pending(), 2);
    assert.equal(dropped(), 8);
    assert.equal(queue.drops(), 8);
    sink.bufferedAmount = 0;
    await sleep(50);
    assert.deepEqual(sink.sent, ['t1#5', 't2#5']);
    queue.close();
  });

  it('keeps other messages in order, sends them before the coalesced topics, and overflows past maxQueued', async () => {
    const { sink, queue, overflows, dropped } = setup();
    sink.bufferedAmount = 1_000;
    queue.push('topic-old', 't/1');
    queue.push('status-1');
    queue.push('topic-new', 't/1');
    queue.push('status-2');
    queue.push('status-3');
    assert.equal(overflows(), 0);
    queue.push('status-4');
    assert.equal(overflows(), 1, 'a fourth non-topic message is one too many');
    sink.bufferedAmount = 0;
    await sleep(50);
    assert.deepEqual(sink.sent, ['status-1', 'status-2', 'status-3', 'topic-new']);
    assert.equal(dropped(), 1);
    queue.close();
  });

  it('drops a new topic beyond maxTopics while congested, counted', () => {
    const { sink, queue, dropped } = setup();
    sink.bufferedAmount = 1_000;
    for (const topic of ['a', 'b', 'c', 'd']) queue.push(topic, topic);
    assert.equal(queue.pending(), 2);
    assert.equal(dropped(), 2);
    queue.close();
  });

  it('keeps waiting while the socket stays congested and sends nothing after close', async () => {
    const { sink, queue } = setup();
    sink.bufferedAmount = 1_000;
    queue.push('x', 't');
    await sleep(30);
    assert.deepEqual(sink.sent, []);
    queue.close();
    sink.bufferedAmount = 0;
    await sleep(30);
    queue.push('y', 't');
    assert.deepEqual(sink.sent, []);
    assert.equal(queue.pending(), 0);
  });
});
