/**
 * Reading the topic tree: browse one level (or a few) below a prefix with counts aggregated over
 * everything beneath, and search by substring or MQTT filter. Both walk the flat topic map, which
 * is bounded by config.observer.max_topics: a read costs O(topics), the ingest path stays O(1).
 */
import { topicMatches } from '../../core/topic-match.ts';
import { quickPreview, type PreviewKind } from '../mqtt/payload-preview.ts';
import { rateOf, summaryOf, type TopicNode, type TopicSummary } from './topic-node.ts';

export type { TopicSummary };

export type BrowseOptions = Readonly<{
  /** Topic levels joined by '/', '' for the root. */
  prefix?: string;
  /** How many levels below the prefix each item goes (1 = the children). */
  depth?: number;
  limit?: number;
}>;

export type BrowseItem = Readonly<{
  /** The path of the item: prefix + up to `depth` more levels. */
  path: string;
  /** The path relative to the prefix (one level when depth is 1). */
  name: string;
  /** A topic with exactly this name has been seen. */
  is_topic: boolean;
  /** Topics deeper than this item exist. */
  has_children: boolean;
  /** Aggregated over the item and everything below it. */
  topics: number;
  messages: number;
  bytes: number;
  rate: number;
  last_seen: string;
  /**
   * For an item that is a topic itself (issue 16): whether the broker holds a retained message
   * for it, and its last payload (at most PREVIEW_BYTES), so a retained topic that has not
   * changed since the page opened shows its value, as MQTT Explorer does.
   */
  retained?: boolean;
  preview?: string;
  preview_kind?: PreviewKind;
}>;

/** The last payload's bytes shown in a tree row. */
export const PREVIEW_BYTES = 256;

export type BrowseResult = Readonly<{
  prefix: string;
  depth: number;
  /** The topic named exactly `prefix`, when there is one. */
  self: TopicSummary | null;
  items: BrowseItem[];
  total: number;
  truncated: boolean;
}>;

export type SearchOptions = Readonly<{ q?: string; filter?: string; limit?: number }>;

type Agg = { path: string; name: string; isTopic: boolean; hasChildren: boolean; topics: number; messages: number; bytes: number; rate: number; lastSeen: number; node: TopicNode | null };

const round = (x: number): number => Math.round(x * 1000) / 1000;

/** The index just after the `levels`-th '/' at or after `from`, or -1 when the topic ends first. */
const cutAfterLevels = (topic: string, from: number, levels: number): number => {
  let i = from;
  for (let k = 0; k < levels; k++) {
    const slash = topic.indexOf('/', i);
    if (slash === -1) return -1;
    i = slash + 1;
  }
  return i - 1;
};

export const browseTopics = (nodes: Iterable<TopicNode>, options: BrowseOptions, now: number): BrowseResult => {
  const prefix = options.prefix ?? '';
  const depth = Math.max(1, Math.floor(options.depth ?? 1));
  const limit = Math.max(1, Math.floor(options.limit ?? 1000));
  const below = prefix === '' ? '' : `${prefix}/`;
  const groups = new Map<string, Agg>();
  let self: TopicSummary | null = null;
  for (const n of nodes) {
    const t = n.topic;
    if (prefix !== '' && t === prefix) {
      self = summaryOf(n, now);
      continue;
    }
    if (!t.startsWith(below)) continue;
    // The item path: `depth` levels below the prefix, or the whole topic when it is shallower.
    const cut = cutAfterLevels(t, below.length, depth);
    const path = cut === -1 ? t : t.slice(0, cut);
    let g = groups.get(path);
    if (!g) {
      g = { path, name: path.slice(below.length), isTopic: false, hasChildren: false, topics: 0, messages: 0, bytes: 0, rate: 0, lastSeen: 0, node: null };
      groups.set(path, g);
    }
    if (cut === -1) {
      g.isTopic = true;
      g.node = n;
    } else g.hasChildren = true;
    g.topics++;
    g.messages += n.messages;
    g.bytes += n.bytes;
    g.rate += rateOf(n, now);
    if (n.lastSeen > g.lastSeen) g.lastSeen = n.lastSeen;
  }
  const sorted = [...groups.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return {
    prefix,
    depth,
    self,
    items: sorted.slice(0, limit).map((g) => {
      const item = {
        path: g.path, name: g.name, is_topic: g.isTopic, has_children: g.hasChildren,
        topics: g.topics, messages: g.messages, bytes: g.bytes, rate: round(g.rate), last_seen: new Date(g.lastSeen).toISOString(),
      };
      if (!g.node) return item;
      // As the live pushes preview it (observer.ts), so a row reads the same before and after an update.
      const p = quickPreview(g.node.lastHead, PREVIEW_BYTES);
      return { ...item, retained: g.node.retained, preview: p.text, preview_kind: p.kind };
    }),
    total: sorted.length,
    truncated: sorted.length > limit,
  };
};

/** Topics containing `q` (case-insensitive) and/or matching the MQTT filter, sorted by name. */
export const searchTopics = (nodes: Iterable<TopicNode>, options: SearchOptions, now: number): { items: TopicSummary[]; total: number; truncated: boolean } => {
  const q = options.q?.toLowerCase() ?? '';
  const filter = options.filter ?? '';
  const limit = Math.max(1, Math.floor(options.limit ?? 100));
  const hits: TopicNode[] = [];
  for (const n of nodes) {
    if (q !== '' && !n.topic.toLowerCase().includes(q)) continue;
    if (filter !== '' && !topicMatches(filter, n.topic)) continue;
    hits.push(n);
  }
  hits.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0));
  return { items: hits.slice(0, limit).map((n) => summaryOf(n, now)), total: hits.length, truncated: hits.length > limit };
};
