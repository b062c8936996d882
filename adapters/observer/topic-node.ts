/**
 * One topic's record in the topic tree, and the figures derived from it (rate, summary). Shared
 * by topic-tree.ts (writes) and topic-tree-browse.ts (reads).
 */

/** Rates are the messages seen in the last minute (a sliding estimate over two fixed windows). */
export const RATE_WINDOW_MS = 60_000;

export type HistoryEntry = { at: number; size: number; qos: 0 | 1 | 2; retain: boolean; head: Buffer };

export type TopicNode = {
  readonly topic: string;
  /** LRU bookkeeping: the tree's insertion count when this node was last (re)inserted. */
  pos: number;
  messages: number;
  bytes: number;
  firstSeen: number;
  lastSeen: number;
  qos: 0 | 1 | 2;
  /** The broker holds a retained message for this topic (as far as we saw). */
  retained: boolean;
  lastHead: Buffer;
  lastSize: number;
  lastRetain: boolean;
  /** Ring buffer of the last N messages, oldest first from `historyNext`. */
  history: HistoryEntry[] | null;
  historyNext: number;
  winStart: number;
  winCount: number;
  prevCount: number;
};

export type TopicSummary = Readonly<{
  topic: string;
  messages: number;
  bytes: number;
  /** Messages per second over the last minute. */
  rate: number;
  qos: 0 | 1 | 2;
  retained: boolean;
  last_seen: string;
}>;

const iso = (ms: number): string => new Date(ms).toISOString();

/** Messages per second over the last minute, as of `now`. */
export const rateOf = (n: TopicNode, now: number): number => {
  const elapsed = now - n.winStart;
  if (elapsed >= 2 * RATE_WINDOW_MS) return 0;
  if (elapsed >= RATE_WINDOW_MS) {
    // The current window has closed: it is now the previous one.
    const into = elapsed - RATE_WINDOW_MS;
    return (n.winCount * (RATE_WINDOW_MS - into)) / RATE_WINDOW_MS / 60;
  }
  return (n.prevCount * (RATE_WINDOW_MS - elapsed) / RATE_WINDOW_MS + n.winCount) / 60;
};

export const summaryOf = (n: TopicNode, now: number): TopicSummary => ({
  topic: n.topic,
  messages: n.messages,
  bytes: n.bytes,
  rate: Math.round(rateOf(n, now) * 1000) / 1000,
  qos: n.qos,
  retained: n.retained,
  last_seen: iso(n.lastSeen),
});

