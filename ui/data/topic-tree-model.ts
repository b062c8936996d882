/**
 * The topic explorer's models (no DOM). The server's topic tree (GET /topics) is the authority;
 * between two loads, live `topic_message`s update what is on screen at once:
 *
 * - TopicTreeModel: an expandable tree. The root level and each expanded item are loaded with
 *   `GET /topics?prefix=P&depth=1`; a live message adds its bytes and count to every loaded item
 *   on its path, creates items that are new on a loaded level, and keeps the last preview of the
 *   topic itself. A topic is counted as new only when an item on its path appears on a loaded
 *   level (below a collapsed branch the client cannot know; the next load says). Rates are the server's
 *   (messages/s over the last minute): the ws hub coalesces bursts, so a count of the messages
 *   received here would understate them.
 * - TopicSearchModel: the flat result of `GET /topics?q=` or `?filter=`, updated live with the
 *   messages that match (text: case-insensitive substring; filter: MQTT matching).
 */

export type PreviewKind = 'text' | 'json' | 'binary';

/** A live `topic_message` (adapters/live/live-bus.ts). */
export type TopicMessage = Readonly<{
  topic: string;
  qos: 0 | 1 | 2;
  retain: boolean;
  bytes: number;
  preview: string;
  preview_kind: PreviewKind;
  at: string;
}>;

/** An item of `GET /topics?prefix=&depth=1` (browse mode). */
export type BrowseItem = Readonly<{
  path: string;
  name: string;
  is_topic: boolean;
  has_children: boolean;
  topics: number;
  messages: number;
  bytes: number;
  rate: number;
  last_seen: string;
  /** For an item that is a topic itself: its retained flag and last payload (issue 16). */
  retained?: boolean;
  preview?: string;
  preview_kind?: PreviewKind;
}>;

/** One topic (`GET /topics?q=` items, and the summary part of `GET /topics/{topic}`). */
export type TopicSummary = Readonly<{
  topic: string;
  messages: number;
  bytes: number;
  rate: number;
  qos: 0 | 1 | 2;
  retained: boolean;
  last_seen: string;
}>;

export type TreeNode = {
  path: string;
  name: string;
  isTopic: boolean;
  hasChildren: boolean;
  topics: number;
  messages: number;
  bytes: number;
  rate: number;
  lastSeen: string;
  /**
   * The last payload of the topic with exactly this name: from the listing (so a retained topic
   * that has not changed since the page opened shows its value), then from live messages.
   */
  preview: string | null;
  previewKind: PreviewKind | null;
  /** The broker holds a retained message for the topic with exactly this name. */
  retained: boolean;
  /** Changed by a live message since the last load (for a brief highlight). */
  live: boolean;
};

export type ApplyResult = 'new' | 'updated' | 'none';

export type TreeRow = Readonly<{ node: TreeNode; level: number; expanded: boolean; loading: boolean }>;

/** Children are keyed by the parent's path; the root's key is ROOT (a topic may be ''). */
const ROOT = '\u0000root';

export type TopicTreeModel = {
  /** Replaces the children of `prefix` ('' or null: the root) with a loaded listing. */
  setLevel(prefix: string | null, items: readonly BrowseItem[], truncated?: boolean): void;
  /** Marks `path` expanded (its children load separately); returns false when already. */
  expand(path: string): boolean;
  collapse(path: string): void;
  isExpanded(path: string): boolean;
  /** The prefixes whose children are shown: the root (null) first, then expanded paths. */
  loadedPrefixes(): (string | null)[];
  /**
   * Applies one live message: 'new' when it revealed a new topic (its item, or a branch above it,
   * appeared on a loaded level), 'updated' when it changed loaded items, 'none' otherwise.
   * `below`: touch only the items under that path (replaying, after a branch was loaded, what
   * arrived while it loaded: the items above it have counted those messages already).
   */
  apply(m: TopicMessage, below?: string): ApplyResult;
  /** The visible rows, depth first, in path order. */
  rows(): TreeRow[];
  /** A level's listing was cut at the server's limit. */
  truncated(prefix: string | null): boolean;
  clear(): void;
};

const byPath = (a: TreeNode, b: TreeNode): number => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

const fromItem = (i: BrowseItem, old: TreeNode | undefined): TreeNode => ({
  path: i.path,
  name: i.name,
  isTopic: i.is_topic,
  hasChildren: i.has_children,
  topics: i.topics,
  messages: i.messages,
  bytes: i.bytes,
  rate: i.rate,
  lastSeen: i.last_seen,
  // A live message newer than the listing keeps its preview; otherwise the listing's.
  ...(old && old.preview !== null && old.lastSeen > i.last_seen
    ? { preview: old.preview, previewKind: old.previewKind, retained: old.retained }
    : { preview: i.preview ?? old?.preview ?? null, previewKind: i.preview_kind ?? old?.previewKind ?? null, retained: i.retained ?? old?.retained ?? false }),
  live: false,
});

export const createTopicTreeModel = (): TopicTreeModel => {
  const levels = new Map<string, Map<string, TreeNode>>();
  const cut = new Set<string>();
  const expanded = new Set<string>();
  const key = (prefix: string | null): string => (prefix === null ? ROOT : prefix);

  const dropBelow = (path: string): void => {
    // Expanded descendants go too: collapsing a branch forgets what was open inside it.
    for (const p of [...expanded]) {
      if (p === path || p.startsWith(`${path}/`)) {
        expanded.delete(p);
        levels.delete(p);
        cut.delete(p);
      }
    }
  };

  const model: TopicTreeModel = {
    setLevel: (prefix, items, truncated = false) => {
      const k = key(prefix === '' ? null : prefix);
      if (k !== ROOT && !expanded.has(k)) return;
      const old = levels.get(k);
      levels.set(k, new Map(items.map((i) => [i.path, fromItem(i, old?.get(i.path))])));
      if (truncated) cut.add(k);
      else cut.delete(k);
    },
    expand: (path) => {
      if (expanded.has(path)) return false;
      expanded.add(path);
      return true;
    },
    collapse: (path) => dropBelow(path),
    isExpanded: (path) => expanded.has(path),
    loadedPrefixes: () => [null, ...[...expanded].sort()],
    apply: (m, below) => {
      const parts = m.topic.split('/');
      const visited: TreeNode[] = [];
      let parent = ROOT;
      let created = false;
      let changed = false;
      for (let i = 0; i < parts.length; i++) {
        const children = levels.get(parent);
        if (!children) break;
        const path = parts.slice(0, i + 1).join('/');
        const leaf = i === parts.length - 1;
        if (below !== undefined && !path.startsWith(`${below}/`)) {
          parent = path;
          continue;
        }
        let node = children.get(path);
        if (!node) {
          node = {
            path, name: parts[i] ?? '', isTopic: false, hasChildren: false, topics: 0, messages: 0, bytes: 0, rate: 0,
            lastSeen: m.at, preview: null, previewKind: null, retained: false, live: true,
          };
          children.set(path, node);
          // A new item on a loaded level: no topic existed below it, so this topic is new.
          created = true;
        }
        node.messages += 1;
        node.bytes += m.bytes;
        if (m.at > node.lastSeen) node.lastSeen = m.at;
        node.live = true;
        if (leaf) {
          node.isTopic = true;
          node.preview = m.preview;
          node.previewKind = m.preview_kind;
          // A retained publish sets or (empty) clears it; a plain one leaves the broker's as it was.
          if (m.retain) node.retained = m.bytes > 0;
        } else node.hasChildren = true;
        visited.push(node);
        changed = true;
        parent = path;
      }
      if (created) for (const n of visited) n.topics += 1;
      return created ? 'new' : changed ? 'updated' : 'none';
    },
    rows: () => {
      const out: TreeRow[] = [];
      const walk = (k: string, level: number): void => {
        const children = levels.get(k);
        if (!children) return;
        for (const node of [...children.values()].sort(byPath)) {
          const open = expanded.has(node.path);
          out.push({ node, level, expanded: open, loading: open && !levels.has(node.path) });
          if (open) walk(node.path, level + 1);
        }
      };
      walk(ROOT, 0);
      return out;
    },
    truncated: (prefix) => cut.has(key(prefix === '' ? null : prefix)),
    clear: () => {
      levels.clear();
      expanded.clear();
      cut.clear();
    },
  };
  return model;
};

/**
 * MQTT topic matching (MQTT 3.1.1 §4.7): `+` one level, `#` the rest including the parent, and
 * wildcards at the first level never match a `$` topic. For narrowing the view; the server does
 * the authoritative match (the ws hub filters what it sends, GET /topics?filter= searches).
 */
export const filterMatches = (filter: string, topic: string): boolean => {
  if (filter === '' || topic === '') return false;
  if (topic.startsWith('$') && (filter.startsWith('+') || filter.startsWith('#'))) return false;
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    const level = f[i];
    if (level === '#') return true;
    if (i >= t.length) return false;
    if (level !== '+' && level !== t[i]) return false;
  }
  return f.length === t.length;
};

export type SearchQuery = Readonly<{ q?: string; filter?: string }>;

export type SearchRow = TopicSummary & { preview: string | null; previewKind: PreviewKind | null; live: boolean };

export type TopicSearchModel = {
  set(items: readonly TopicSummary[], total: number, truncated: boolean): void;
  matches(topic: string): boolean;
  apply(m: TopicMessage): boolean;
  rows(): SearchRow[];
  total(): number;
  truncated(): boolean;
};

export const createTopicSearchModel = (query: SearchQuery, limit = 1000): TopicSearchModel => {
  const q = (query.q ?? '').toLowerCase();
  const filter = query.filter ?? '';
  const rows = new Map<string, SearchRow>();
  let total = 0;
  let cutOff = false;
  const matches = (topic: string): boolean =>
    (q === '' || topic.toLowerCase().includes(q)) && (filter === '' || filterMatches(filter, topic));
  return {
    set: (items, t, truncated) => {
      const old = new Map(rows);
      rows.clear();
      for (const i of items) {
        const o = old.get(i.topic);
        rows.set(i.topic, { ...i, preview: o?.preview ?? null, previewKind: o?.previewKind ?? null, live: false });
      }
      total = t;
      cutOff = truncated;
    },
    matches,
    apply: (m) => {
      if (!matches(m.topic)) return false;
      const r = rows.get(m.topic);
      if (r) {
        rows.set(m.topic, {
          ...r, messages: r.messages + 1, bytes: r.bytes + m.bytes, qos: m.qos, retained: m.retain ? m.bytes > 0 : r.retained,
          last_seen: m.at > r.last_seen ? m.at : r.last_seen, preview: m.preview, previewKind: m.preview_kind, live: true,
        });
        return true;
      }
      if (rows.size >= limit) {
        cutOff = true;
        total += 1;
        return true;
      }
      rows.set(m.topic, {
        topic: m.topic, messages: 1, bytes: m.bytes, rate: 0, qos: m.qos, retained: m.retain && m.bytes > 0, last_seen: m.at,
        preview: m.preview, previewKind: m.preview_kind, live: true,
      });
      total += 1;
      return true;
    },
    rows: () => [...rows.values()].sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0)),
    total: () => total,
    truncated: () => cutOff,
  };
};
