/**
 * The bounded topic tree (DESIGN §7): per-topic counts, bytes, rate, previews, history, retained
 * flag and QoS; least recently seen topics evicted and counted; browse and search.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ObservedMessage } from '../../adapters/live/observed-message.ts';
import { createTopicTree } from '../../adapters/observer/topic-tree.ts';

const T0 = Date.parse('2026-01-01T00:00:00Z');

const msg = (topic: string, payload: string | Buffer, opts: Partial<Omit<ObservedMessage, 'topic' | 'payload'>> = {}): ObservedMessage => ({
  topic,
  payload: typeof payload === 'string' ? Buffer.from(payload) : payload,
  qos: opts.qos ?? 0,
  retain: opts.retain ?? false,
  receivedAt: opts.receivedAt ?? T0,
});

describe('topic tree: per-topic figures', () => {
  it('counts messages and bytes, keeps QoS, first/last seen and the last payload', () => {
    const tree = createTopicTree({ maxTopics: 10, historyDepth: 5 });
    tree.record(msg('plant/a', 'one', { receivedAt: T0 }));
    tree.record(msg('plant/a', 'three', { qos: 2, receivedAt: T0 + 1000 }));
    const d = tree.get('plant/a', T0 + 1000);
    assert.ok(d);
    assert.equal(d.messages, 2);
    assert.equal(d.bytes, 8);
    assert.equal(d.qos, 2);
    assert.equal(d.first_seen, '2026-01-01T00:00:00.000Z');
    assert.equal(d.last_seen, '2026-01-01T00:00:01.000Z');
    assert.deepEqual([d.last.preview, d.last.preview_kind, d.last.bytes], ['three', 'text', 5]);
    assert.equal(tree.get('plant/b'), null);
    assert.deepEqual(tree.stats(), { topics: 1, max_topics: 10, evicted: 0, messages: 2, bytes: 8 });
  });

  it('pretty-prints JSON, summarises binary payloads and caps long ones', () => {
    const tree = createTopicTree({ maxTopics: 10, historyDepth: 0, lastPreviewBytes: 64 });
    tree.record(msg('j', '{"t":21.5,"ok":true}'));
    tree.record(msg('b', Buffer.from([0x0a, 0x1b, 0x00, 0xff, 0x10])));
    tree.record(msg('long', 'é'.repeat(100))); // 200 bytes: cut at 64 bytes on a character boundary
    assert.deepEqual([tree.get('j')?.last.preview_kind, tree.get('j')?.last.preview], ['json', '{\n  "t": 21.5,\n  "ok": true\n}']);
    assert.deepEqual([tree.get('b')?.last.preview_kind, tree.get('b')?.last.preview], ['binary', 'binary, 5 bytes: 0a 1b 00 ff 10']);
    const long = tree.get('long')?.last;
    assert.deepEqual([long?.preview_kind, long?.preview, long?.truncated, long?.bytes], ['text', 'é'.repeat(32), true, 200]);
  });

  it('keeps the last N messages, oldest first (config.observer.history_depth)', () => {
    const tree = createTopicTree({ maxTopics: 10, historyDepth: 3 });
    for (let i = 1; i <= 5; i++) tree.record(msg('h', `m${i}`, { receivedAt: T0 + i }));
    assert.deepEqual(tree.get('h')?.history.map((h) => h.preview), ['m3', 'm4', 'm5']);
    const none = createTopicTree({ maxTopics: 10, historyDepth: 0 });
    none.record(msg('h', 'x'));
    assert.deepEqual(none.get('h')?.history, []);
  });

  it('marks a topic retained on a retained publish and clears it on an empty retained one [MQTT-3.3.1-6/7]', () => {
    const tree = createTopicTree({ maxTopics: 10, historyDepth: 1 });
    tree.record(msg('r', 'on', { retain: true }));
    assert.equal(tree.get('r')?.retained, true);
    tree.record(msg('r', 'live, not retained'));
    assert.equal(tree.get('r')?.retained, true, 'a non-retained publish leaves the retained message in place');
    tree.record(msg('r', '', { retain: true }));
    assert.equal(tree.get('r')?.retained, false);
  });

  it('reports the rate as messages per second over the last minute', () => {
    const tree = createTopicTree({ maxTopics: 10, historyDepth: 0 });
    for (let i = 0; i < 120; i++) tree.record(msg('r', 'x', { receivedAt: T0 + i * 250 })); // 4/s for 30 s
    assert.equal(tree.get('r', T0 + 30_000)?.rate, 2); // 120 in the last minute
    assert.equal(tree.get('r', T0 + 200_000)?.rate, 0);
  });

  it('copies the payload: a later change to mqtt.js\'s buffer does not change what was recorded', () => {
    const tree = createTopicTree({ maxTopics: 10, historyDepth: 2 });
    const buf = Buffer.from('abc');
    tree.record(msg('c', buf));
    buf.write('xyz');
    assert.equal(tree.get('c')?.last.preview, 'abc');
    assert.equal(tree.get('c')?.history[0]?.preview, 'abc');
  });
});

describe('topic tree: the bound (config.observer.max_topics)', () => {
  it('holds at most max_topics with 100,000 distinct topics, and counts every eviction', () => {
    const tree = createTopicTree({ maxTopics: 1000, historyDepth: 2 });
    for (let i = 0; i < 100_000; i++) tree.record(msg(`load/${i}`, 'x', { receivedAt: T0 + i }));
    assert.equal(tree.size(), 1000);
    assert.equal(tree.stats().evicted, 99_000);
    assert.equal(tree.get('load/0'), null);
    assert.ok(tree.get('load/99999'));
    assert.equal(tree.stats().messages, 100_000);
  });

  it('evicts the least recently seen topic, not the oldest created', () => {
    const tree = createTopicTree({ maxTopics: 3, historyDepth: 0 });
    tree.record(msg('a', '1'));
    tree.record(msg('b', '1'));
    tree.record(msg('c', '1'));
    tree.record(msg('a', '2')); // a is now the most recent
    tree.record(msg('d', '1')); // evicts b
    assert.deepEqual(['a', 'b', 'c', 'd'].map((t) => tree.get(t) !== null), [true, false, true, true]);
    assert.equal(tree.stats().evicted, 1);
  });
});

describe('topic tree: browse and search', () => {
  const build = () => {
    const tree = createTopicTree({ maxTopics: 100, historyDepth: 0 });
    for (const [t, p] of [['plant', 'root'], ['plant/l1/temp', '21'], ['plant/l1/hum', '40'], ['plant/l2/temp', '19'], ['office/temp', '22'], ['plant/l1/temp', '22']] as const) {
      tree.record(msg(t, p));
    }
    return tree;
  };

  it('lists the children of the root with counts aggregated over everything below them', () => {
    const r = build().list({}, T0);
    assert.equal(r.self, null);
    assert.deepEqual(r.items.map((i) => [i.path, i.topics, i.messages, i.is_topic, i.has_children]), [
      ['office', 1, 1, false, true],
      ['plant', 4, 5, true, true],
    ]);
  });

  it('gives a topic item its retained flag and last payload, a branch neither (issue 16: the tree shows them on load)', () => {
    const tree = createTopicTree({ maxTopics: 100, historyDepth: 0 });
    tree.record(msg('plant/setpoint', '{"value":21.5}', { retain: true }));
    tree.record(msg('plant/line1/temp', '20'));
    const items = tree.list({ prefix: 'plant' }, T0).items;
    const setpoint = items.find((i) => i.path === 'plant/setpoint');
    assert.deepEqual([setpoint?.retained, setpoint?.preview, setpoint?.preview_kind], [true, '{"value":21.5}', 'json']);
    const branch = items.find((i) => i.path === 'plant/line1');
    assert.deepEqual([branch?.retained, branch?.preview], [undefined, undefined], 'a branch has no payload of its own');
  });

  it('lists below a prefix, with the prefix topic itself as `self`, and deeper with depth', () => {
    const tree = build();
    const r = tree.list({ prefix: 'plant' }, T0);
    assert.equal(r.self?.topic, 'plant');
    assert.deepEqual(r.items.map((i) => [i.path, i.name, i.topics, i.messages]), [['plant/l1', 'l1', 2, 3], ['plant/l2', 'l2', 1, 1]]);
    const deep = tree.list({ prefix: 'plant', depth: 2 }, T0);
    assert.deepEqual(deep.items.map((i) => [i.path, i.name, i.is_topic, i.has_children]), [
      ['plant/l1/hum', 'l1/hum', true, false], ['plant/l1/temp', 'l1/temp', true, false], ['plant/l2/temp', 'l2/temp', true, false],
    ]);
    assert.deepEqual(tree.list({ prefix: 'nothing' }, T0).items, []);
  });

  it('caps the number of items and says so', () => {
    const r = build().list({ prefix: 'plant', limit: 1 }, T0);
    assert.deepEqual([r.items.length, r.total, r.truncated], [1, 2, true]);
  });

  it('searches by substring (case-insensitive) and by MQTT filter, as the broker matches [ref §2.3]', () => {
    const tree = build();
    assert.deepEqual(tree.search({ q: 'TEMP' }).items.map((i) => i.topic), ['office/temp', 'plant/l1/temp', 'plant/l2/temp']);
    assert.deepEqual(tree.search({ filter: 'plant/+/temp' }).items.map((i) => i.topic), ['plant/l1/temp', 'plant/l2/temp']);
    assert.deepEqual(tree.search({ filter: 'plant/#' }).items.map((i) => i.topic), ['plant', 'plant/l1/hum', 'plant/l1/temp', 'plant/l2/temp']);
    assert.deepEqual(tree.search({ filter: 'plant/#', q: 'hum' }).items.map((i) => i.topic), ['plant/l1/hum']);
  });
});
