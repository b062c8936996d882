/**
 * An index from MQTT topic filters to values (DESIGN §7: JSON schemas are "matched by a
 * topic-filter index", not by a scan). A trie over topic levels with a `+` branch and a `#` slot
 * per node: matching a concrete topic walks its levels once, following at most the literal child
 * and the `+` child per level, so the cost grows with the topic's levels and the wildcards that
 * can actually match, not with the number of filters.
 *
 * For the filters the core accepts (core/topic-filter.ts) the semantics are exactly
 * `topicMatches` (core/topic-match.ts, Mosquitto 2.0.11), which
 * tests/adapters/schema-validator.index.test.ts checks on random filters and topics:
 * - a topic starting with '$' is matched by no filter whose first level is a wildcard
 *   [MQTT-4.7.2-1]; `$SYS/#` still matches `$SYS/x`;
 * - `a/#` also matches `a` (the parent level) [MQTT-4.7.1-2]; `+` matches an empty level;
 * - an empty topic, or one containing a wildcard character, is matched by nothing;
 * - a malformed filter (`a+`, `+/#/a`, '') matches nothing — libmosquitto answers a few of those
 *   (`+/#/a` matches `a`), but the core never lets one into a schema.
 */

type TrieNode<V> = {
  children: Map<string, TrieNode<V>>;
  plus: TrieNode<V> | null;
  /** Values of filters that end at this node. */
  exact: Set<V>;
  /** Values of filters that end with `#` right below this node. */
  hash: Set<V>;
};

export type TopicFilterIndex<V> = {
  /** Adds `value` under `filter`. A malformed filter is accepted and never matches. */
  add(filter: string, value: V): void;
  /** Removes `value` from under `filter`; false when it was not there. */
  remove(filter: string, value: V): boolean;
  /** The values of every filter matching `topic`, each once. */
  match(topic: string): V[];
  /** Number of (filter, value) pairs held, malformed filters included. */
  size(): number;
  clear(): void;
};

const newNode = <V>(): TrieNode<V> => ({ children: new Map(), plus: null, exact: new Set(), hash: new Set() });

/** Levels of a filter whose wildcards occupy whole levels and whose `#` is last; else null. */
const filterLevels = (filter: string): string[] | null => {
  if (filter.length === 0) return null;
  const levels = filter.split('/');
  for (let i = 0; i < levels.length; i++) {
    const l = levels[i] as string;
    if (l === '+') continue;
    if (l === '#') {
      if (i !== levels.length - 1) return null;
      continue;
    }
    if (l.includes('+') || l.includes('#')) return null;
  }
  return levels;
};

export const createTopicFilterIndex = <V>(): TopicFilterIndex<V> => {
  let root = newNode<V>();
  let count = 0;
  /** Malformed filters: kept only so that remove() and size() stay truthful. */
  const malformed = new Map<string, Set<V>>();

  /** The node a filter's values live in, and whether they go in its `hash` slot. */
  const locate = (levels: readonly string[], create: boolean): { node: TrieNode<V>; slot: 'exact' | 'hash' } | null => {
    let node = root;
    const last = levels.length - 1;
    for (let i = 0; i <= last; i++) {
      const l = levels[i] as string;
      if (l === '#') return { node, slot: 'hash' };
      let next = l === '+' ? node.plus : node.children.get(l);
      if (!next) {
        if (!create) return null;
        next = newNode<V>();
        if (l === '+') node.plus = next;
        else node.children.set(l, next);
      }
      node = next;
    }
    return { node, slot: 'exact' };
  };

  const add = (filter: string, value: V): void => {
    const levels = filterLevels(filter);
    if (!levels) {
      const set = malformed.get(filter) ?? new Set<V>();
      if (!set.has(value)) count++;
      set.add(value);
      malformed.set(filter, set);
      return;
    }
    const at = locate(levels, true) as { node: TrieNode<V>; slot: 'exact' | 'hash' };
    const set = at.node[at.slot];
    if (!set.has(value)) count++;
    set.add(value);
  };

  const remove = (filter: string, value: V): boolean => {
    const levels = filterLevels(filter);
    if (!levels) {
      const set = malformed.get(filter);
      if (!set?.delete(value)) return false;
      if (set.size === 0) malformed.delete(filter);
      count--;
      return true;
    }
    // Empty branches stay: the index is rebuilt wholesale when schemas change (clear()).
    const at = locate(levels, false);
    if (!at?.node[at.slot].delete(value)) return false;
    count--;
    return true;
  };

  const match = (topic: string): V[] => {
    if (topic.length === 0 || topic.includes('+') || topic.includes('#')) return [];
    const levels = topic.split('/');
    const out = new Set<V>();
    const dollar = topic.startsWith('$');
    // Iterative walk over (node, level index) pairs; at most two branches per level.
    const stack: [TrieNode<V>, number][] = [[root, 0]];
    while (stack.length > 0) {
      const [node, i] = stack.pop() as [TrieNode<V>, number];
      // Wildcards at the first level never match a '$' topic [MQTT-4.7.2-1].
      const wild = !(dollar && i === 0);
      // `#` matches the remaining levels, including none: `a/#` matches `a` [MQTT-4.7.1-2].
      if (wild) for (const v of node.hash) out.add(v);
      if (i === levels.length) {
        for (const v of node.exact) out.add(v);
        continue;
      }
      const level = levels[i] as string;
      const child = node.children.get(level);
      if (child) stack.push([child, i + 1]);
      if (wild && node.plus) stack.push([node.plus, i + 1]);
    }
    return [...out];
  };

  return {
    add,
    remove,
    match,
    size: () => count,
    clear: () => {
      root = newNode<V>();
      malformed.clear();
      count = 0;
    },
  };
};
