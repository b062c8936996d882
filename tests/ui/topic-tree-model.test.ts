/** ui/data/topic-tree-model.ts: the topic explorer's live tree and search results. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createTopicSearchModel, createTopicTreeModel, filterMatches, type BrowseItem, type TopicMessage } from '../../ui/data/topic-tree-model.ts';

const AT = '2026-01-01T00:00:00.000Z';
const LATER = '2026-01-01T00:00:05.000Z';
const item = (path: string, name: string, o: Partial<BrowseItem> = {}): BrowseItem =>
  ({ path, name, is_topic: false, has_children: true, topics: 1, messages: 1, bytes: 10, rate: 0.5, last_seen: AT, ...o });
const msg = (topic: string, preview = 'x', bytes = 4): TopicMessage =>
  ({ topic, qos: 0, retain: false, bytes, preview, preview_kind: 'text', at: LATER });

describe('ui/data topic-tree-model', () => {
  it('shows the root level, expands a branch, and lists rows depth first in path order', () => {
    const m = createTopicTreeModel();
    m.setLevel(null, [item('plant', 'plant', { topics: 2, messages: 5 }), item('home', 'home')]);
    assert.deepEqual(m.rows().map((r) => [r.node.path, r.level]), [['home', 0], ['plant', 0]]);
    assert.equal(m.expand('plant'), true);
    assert.equal(m.expand('plant'), false);
    assert.equal(m.rows()[1]?.loading, true, 'expanded but not loaded yet');
    m.setLevel('plant', [item('plant/b', 'b', { is_topic: true, has_children: false }), item('plant/a', 'a')]);
    assert.deepEqual(m.rows().map((r) => [r.node.path, r.level, r.expanded]), [['home', 0, false], ['plant', 0, true], ['plant/a', 1, false], ['plant/b', 1, false]]);
    assert.deepEqual(m.loadedPrefixes(), [null, 'plant']);
  });

  it('a live message updates every loaded item on its path and creates new ones', () => {
    const m = createTopicTreeModel();
    m.setLevel('', [item('plant', 'plant', { topics: 2, messages: 5, bytes: 50 })]);
    m.expand('plant');
    m.setLevel('plant', [item('plant/a', 'a', { is_topic: true, has_children: false, topics: 1, messages: 3, bytes: 30 })]);
    assert.equal(m.apply(msg('plant/a', '21.5')), 'updated');
    let rows = m.rows();
    assert.deepEqual([rows[0]?.node.messages, rows[0]?.node.bytes, rows[0]?.node.topics], [6, 54, 2]);
    assert.deepEqual([rows[1]?.node.messages, rows[1]?.node.preview, rows[1]?.node.lastSeen, rows[1]?.node.live], [4, '21.5', LATER, true]);

    // A new topic on a loaded level: a new row, and one more topic on its ancestors.
    assert.equal(m.apply(msg('plant/c', '{"v":1}')), 'new');
    rows = m.rows();
    assert.deepEqual(rows.map((r) => r.node.path), ['plant', 'plant/a', 'plant/c']);
    assert.equal(rows[0]?.node.topics, 3);
    assert.deepEqual([rows[2]?.node.isTopic, rows[2]?.node.topics, rows[2]?.node.messages], [true, 1, 1]);

    // Below a collapsed branch: the branch counts the message, but whether the topic is new is unknown.
    assert.equal(m.apply(msg('plant/a/deep/x')), 'updated');
    rows = m.rows();
    assert.deepEqual([rows[0]?.node.topics, rows[0]?.node.messages, rows[1]?.node.hasChildren, rows[1]?.node.messages], [3, 8, true, 5]);

    // A brand-new branch on a loaded level: a new row, and the topic below it is new too.
    assert.equal(m.apply(msg('office/door')), 'new');
    assert.deepEqual([m.rows()[0]?.node.path, m.rows()[0]?.node.hasChildren, m.rows()[0]?.node.topics], ['office', true, 1]);
    m.clear();
    assert.equal(m.apply(msg('x')), 'none', 'nothing loaded');
  });

  it('replaying below a freshly loaded branch leaves the items above it alone', () => {
    const m = createTopicTreeModel();
    m.setLevel(null, [item('plant', 'plant', { messages: 5 })]);
    m.expand('plant');
    m.apply(msg('plant/a'));
    m.setLevel('plant', [item('plant/a', 'a', { is_topic: true, has_children: false, messages: 1 })]);
    assert.equal(m.apply(msg('plant/a', 'late'), 'plant'), 'updated');
    assert.deepEqual(m.rows().map((r) => [r.node.path, r.node.messages]), [['plant', 6], ['plant/a', 2]]);
    assert.equal(m.apply(msg('other/x'), 'plant'), 'none');
  });

    it('a reload replaces the counts but keeps the last previews; collapsing forgets the branch', () => {
    const m = createTopicTreeModel();
    m.setLevel(null, [item('a', 'a', { is_topic: true })]);
    m.apply(msg('a', 'hello'));
    m.setLevel(null, [item('a', 'a', { is_topic: true, messages: 40 })], true);
    assert.deepEqual([m.rows()[0]?.node.messages, m.rows()[0]?.node.preview, m.rows()[0]?.node.live], [40, 'hello', false]);
    assert.equal(m.truncated(null), true);
    m.expand('a');
    m.setLevel('a', [item('a/b', 'b')]);
    m.expand('a/b');
    m.setLevel('a/b', [item('a/b/c', 'c')]);
    m.collapse('a');
    assert.deepEqual(m.loadedPrefixes(), [null]);
    assert.equal(m.rows().length, 1);
    m.setLevel('a', [item('a/b', 'b')]);
    assert.equal(m.rows().length, 1, 'a listing that arrives after the collapse is dropped');
    m.clear();
    assert.equal(m.rows().length, 0);
  });

  it('matches MQTT filters as the broker does', () => {
    assert.equal(filterMatches('plant/#', 'plant'), true);
    assert.equal(filterMatches('plant/#', 'plant/a/b'), true);
    assert.equal(filterMatches('plant/+', 'plant/a'), true);
    assert.equal(filterMatches('plant/+', 'plant/a/b'), false);
    assert.equal(filterMatches('+/+', '/a'), true);
    assert.equal(filterMatches('#', '$SYS/x'), false);
    assert.equal(filterMatches('+/x', '$SYS/x'), false);
    assert.equal(filterMatches('$SYS/#', '$SYS/x'), true);
    assert.equal(filterMatches('a/b', 'a/b'), true);
    assert.equal(filterMatches('a/b', 'a/b/c'), false);
    assert.equal(filterMatches('', 'a'), false);
  });

  it('search results follow live messages that match the text or the filter', () => {
    const s = createTopicSearchModel({ filter: 'plant/+/temp' });
    s.set([{ topic: 'plant/a/temp', messages: 2, bytes: 8, rate: 0.1, qos: 0, retained: false, last_seen: AT }], 1, false);
    assert.equal(s.apply(msg('plant/a/pressure')), false);
    assert.equal(s.apply(msg('plant/a/temp', '22')), true);
    assert.equal(s.apply(msg('plant/b/temp', '19')), true);
    assert.deepEqual(s.rows().map((r) => [r.topic, r.messages, r.preview]), [['plant/a/temp', 3, '22'], ['plant/b/temp', 1, '19']]);
    assert.equal(s.total(), 2);

    const q = createTopicSearchModel({ q: 'TEMP' }, 1);
    q.set([], 0, false);
    assert.equal(q.apply(msg('x/temp')), true);
    assert.equal(q.apply(msg('y/temp')), true);
    assert.deepEqual([q.rows().length, q.total(), q.truncated()], [1, 2, true]);
    assert.equal(q.matches('other'), false);
  });
});

describe('the tree shows listed payloads (issue 16)', () => {
  it('takes a topic\'s last payload and retained flag from the listing, unless a live message is newer', () => {
    const m = createTopicTreeModel();
    m.setLevel(null, [item('plant', 'plant', { is_topic: true, has_children: false, retained: true, preview: '21.5', preview_kind: 'text' })]);
    const node = () => m.rows().find((r) => r.node.path === 'plant')?.node;
    assert.deepEqual([node()?.preview, node()?.retained], ['21.5', true], 'a retained topic unchanged since the page opened is not blank');
    m.apply(msg('plant', '22.0'));
    assert.deepEqual([node()?.preview, node()?.retained], ['22.0', true], 'a plain publish leaves the retained message as it was');
    // A listing older than the live message keeps the live preview.
    m.setLevel(null, [item('plant', 'plant', { is_topic: true, has_children: false, retained: true, preview: '21.5', preview_kind: 'text' })]);
    assert.equal(node()?.preview, '22.0');
  });
});

