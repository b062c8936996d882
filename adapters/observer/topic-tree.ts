/**
 * The live topic tree (DESIGN §7): per topic, messages, bytes, rate, last payload, a short
 * history, retained flag and QoS. Memory is bounded by config.observer.max_topics: the least
 * recently seen topic is evicted and counted, never a crash. Recording is O(1) per message: a
 * Map's insertion order is the LRU order (re-inserting a topic moves it to the end, the first
 * key is the oldest). A topic is only moved once it has drifted into the older half of that
 * order, so eviction is "least recently seen" up to that half: a topic seen within the last
 * max_topics/2 insertions is never the one evicted. Payloads are copied, capped, at receipt (mqtt.js hands out slices of its
 * socket chunks; keeping a slice would keep the whole chunk alive) and rendered only on read.
 *
 * It is a MessageProcessor: the observer hands it every non-$SYS, non-$mcm message.
 */
import type { MessageProcessor, ObservedMessage } from '../live/observed-message.ts';
import { previewPayload, utf8Prefix, type PreviewKind } from '../mqtt/payload-preview.ts';
import { browseTopics, searchTopics, type BrowseOptions, type BrowseResult, type SearchOptions } from './topic-tree-browse.ts';
import { RATE_WINDOW_MS, summaryOf, type HistoryEntry, type TopicNode, type TopicSummary } from './topic-node.ts';

export type { BrowseOptions, BrowseResult, SearchOptions, TopicSummary };

export type MessageView = Readonly<{
  at: string;
  bytes: number;
  qos: 0 | 1 | 2;
  retain: boolean;
  preview: string;
  preview_kind: PreviewKind;
  truncated: boolean;
}>;

export type TopicDetail = TopicSummary & Readonly<{
  first_seen: string;
  last: MessageView;
  /** Oldest first. */
  history: MessageView[];
}>;

export type TopicTreeStats = Readonly<{ topics: number; max_topics: number; evicted: number; messages: number; bytes: number }>;

export type TopicTree = MessageProcessor & {
  record(message: ObservedMessage): void;
  get(topic: string, now?: number): TopicDetail | null;
  list(options?: BrowseOptions, now?: number): BrowseResult;
  search(options: SearchOptions, now?: number): { items: TopicSummary[]; total: number; truncated: boolean };
  stats(): TopicTreeStats;
  size(): number;
  clear(): void;
};

export type TopicTreeOptions = Readonly<{
  maxTopics: number;
  historyDepth: number;
  /** Bytes of the last payload kept per topic (the preview cap). */
  lastPreviewBytes?: number;
  /** Bytes kept per history entry. */
  historyPreviewBytes?: number;
  /** ms since the epoch, for reads (rates). */
  now?: () => number;
}>;

const iso = (ms: number): string => new Date(ms).toISOString();

const view = (at: number, size: number, qos: 0 | 1 | 2, retain: boolean, head: Buffer, cap: number): MessageView => {
  const p = previewPayload(head, cap, size);
  return { at: iso(at), bytes: size, qos, retain, preview: p.text, preview_kind: p.kind, truncated: p.truncated };
};

const EMPTY = Buffer.alloc(0);

/** A capped private copy (never a view into mqtt.js's socket buffer), cut on a UTF-8 boundary. */
const headOf = (payload: Buffer, cap: number): Buffer =>
  payload.length === 0 ? EMPTY : Buffer.from(payload.length <= cap ? payload : utf8Prefix(payload, cap));

export const createTopicTree = (opts: TopicTreeOptions): TopicTree => {
  if (!Number.isInteger(opts.maxTopics) || opts.maxTopics < 1) throw new Error('topic tree: maxTopics must be a positive integer');
  const maxTopics = opts.maxTopics;
  const depth = Math.max(0, Math.floor(opts.historyDepth));
  const lastCap = opts.lastPreviewBytes ?? 1024;
  const histCap = opts.historyPreviewBytes ?? 256;
  const clockNow = opts.now ?? Date.now;
  let nodes = new Map<string, TopicNode>();
  let tail: TopicNode | null = null;
  /** Counts insertions into `nodes`; a node's `pos` is the value at its last (re)insertion. */
  let seq = 0;
  const half = maxTopics >> 1;
  let evicted = 0;
  let messages = 0;
  let bytes = 0;

  const record = (m: ObservedMessage): void => {
    const size = m.payload.length;
    const at = m.receivedAt;
    messages++;
    bytes += size;
    let n = tail !== null && tail.topic === m.topic ? tail : nodes.get(m.topic);
    if (n === undefined) {
      n = {
        topic: m.topic, pos: ++seq, messages: 0, bytes: 0, firstSeen: at, lastSeen: at, qos: m.qos, retained: false,
        lastHead: EMPTY, lastSize: 0, lastRetain: false, history: depth > 0 ? [] : null, historyNext: 0,
        winStart: at, winCount: 0, prevCount: 0,
      };
      nodes.set(m.topic, n);
      if (nodes.size > maxTopics) {
        const oldest = nodes.keys().next().value as string;
        nodes.delete(oldest);
        evicted++;
      }
    } else if (seq - n.pos > half) {
      // In the older half of the LRU order: move it to the recent end. A topic in the recent half
      // is left where it is (it cannot be next to go), which spares the Map two operations for
      // nearly every message of a busy topic.
      n.pos = ++seq;
      nodes.delete(m.topic);
      nodes.set(m.topic, n);
    }
    tail = n;
    n.messages++;
    n.bytes += size;
    n.lastSeen = at;
    n.qos = m.qos;
    // A retained publish with an empty payload clears the retained message (MQTT-3.3.1-6/7).
    if (m.retain) n.retained = size > 0;
    n.lastHead = headOf(m.payload, lastCap);
    n.lastSize = size;
    n.lastRetain = m.retain;
    const elapsed = at - n.winStart;
    if (elapsed >= RATE_WINDOW_MS) {
      n.prevCount = elapsed < 2 * RATE_WINDOW_MS ? n.winCount : 0;
      n.winCount = 0;
      n.winStart += Math.floor(elapsed / RATE_WINDOW_MS) * RATE_WINDOW_MS;
    }
    n.winCount++;
    const h = n.history;
    if (h !== null) {
      const head = size <= histCap ? n.lastHead : headOf(m.payload, histCap);
      if (h.length < depth) h.push({ at, size, qos: m.qos, retain: m.retain, head });
      else {
        // Full ring: overwrite the oldest entry in place (no allocation per message).
        const e = h[n.historyNext] as HistoryEntry;
        e.at = at;
        e.size = size;
        e.qos = m.qos;
        e.retain = m.retain;
        e.head = head;
        n.historyNext = (n.historyNext + 1) % depth;
      }
    }
  };

  const get = (topic: string, now = clockNow()): TopicDetail | null => {
    const n = nodes.get(topic);
    if (!n) return null;
    const hist = n.history ?? [];
    const ordered = hist.length < depth ? hist : [...hist.slice(n.historyNext), ...hist.slice(0, n.historyNext)];
    return {
      ...summaryOf(n, now),
      first_seen: iso(n.firstSeen),
      last: view(n.lastSeen, n.lastSize, n.qos, n.lastRetain, n.lastHead, lastCap),
      history: ordered.map((e) => view(e.at, e.size, e.qos, e.retain, e.head, histCap)),
    };
  };

  return {
    name: 'topic-tree',
    process: record,
    record,
    get,
    list: (options = {}, now = clockNow()) => browseTopics(nodes.values(), options, now),
    search: (options, now = clockNow()) => searchTopics(nodes.values(), options, now),
    stats: () => ({ topics: nodes.size, max_topics: maxTopics, evicted, messages, bytes }),
    size: () => nodes.size,
    clear() {
      nodes = new Map();
      tail = null;
    },
  };
};
