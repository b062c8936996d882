/**
 * The hub's outgoing batch (DESIGN §7: coalesced updates, never unbounded work). Messages from
 * the bus are not fanned out one by one: they are collected and delivered once per event-loop
 * turn (setImmediate), so the observer's burst of MQTT messages from one socket read costs one
 * pass over the clients per topic, not one per message. Within a batch a topic message replaces
 * the pending one of the same topic (latest wins, and takes its place at the end, so what a
 * client receives is always a subsequence of what was published, in order); `superseded` tells
 * the hub how many messages the delivered one stands for, so it can count them as drops.
 * Other messages are never coalesced.
 *
 * Why: fanning out each message at once costs a write per message per client. At a few thousand
 * messages/s and a couple of hundred ws clients that is more than a core can do; the observer
 * then falls behind the broker, the live lag grows without bound and HTTP requests wait behind
 * it. Here the work per turn is bounded by the distinct topics in the turn, and a delivery pass
 * yields after `sliceMs` (the rest waits for the next turn, coalescing meanwhile), so a flood
 * degrades into fewer, fresher updates instead of an ever longer queue.
 *
 * Pending topics are bounded by `maxTopics`: a message for a new topic beyond it is handed to
 * `overflow` (counted as a drop) instead.
 */
export type LiveBatchOptions = Readonly<{
  maxTopics: number;
  /** A delivery pass yields to the event loop after this long. */
  sliceMs: number;
}>;

export type LiveBatch<M> = {
  /** `topic` set: a coalescable topic message. */
  add(message: M, topic?: string): void;
  pending(): number;
  /** Forgets what is pending and stops the timer. */
  close(): void;
};

type Entry<M> = { message: M; superseded: number };

/** How many deliveries between two looks at the clock. */
const CLOCK_EVERY = 32;

export const createLiveBatch = <M>(deps: Readonly<{
  options: LiveBatchOptions;
  deliver: (message: M, superseded: number) => void;
  overflow: (message: M) => void;
  /** After each delivery pass (the hub uncorks the sockets it wrote to). */
  passDone?: () => void;
  /** A delivery that threw: reported, and the pass goes on (as the bus does for its listeners). */
  onError?: (e: unknown) => void;
  now?: () => number;
}>): LiveBatch<M> => {
  const { options, deliver, overflow } = deps;
  const now = deps.now ?? (() => performance.now());
  /** Insertion order is delivery order; topic keys are strings, the others numbers. */
  const pending = new Map<string | number, Entry<M>>();
  let topics = 0;
  let next = 0;
  let scheduled: NodeJS.Immediate | null = null;
  let closed = false;

  const pass = (): void => {
    scheduled = null;
    const started = now();
    let n = 0;
    try {
      for (const [key, entry] of pending) {
        pending.delete(key);
        if (typeof key === 'string') topics--;
        try {
          deliver(entry.message, entry.superseded);
        } catch (e) {
          deps.onError?.(e);
        }
        if (++n % CLOCK_EVERY === 0 && now() - started >= options.sliceMs) break;
      }
    } finally {
      deps.passDone?.();
      if (pending.size > 0 && !closed) scheduled = setImmediate(pass);
    }
  };

  return {
    add: (message, topic) => {
      if (closed) return;
      if (topic === undefined) {
        pending.set(next++, { message, superseded: 0 });
      } else {
        const previous = pending.get(topic);
        if (previous) {
          pending.delete(topic);
          pending.set(topic, { message, superseded: previous.superseded + 1 });
        } else if (topics >= options.maxTopics) {
          overflow(message);
          return;
        } else {
          pending.set(topic, { message, superseded: 0 });
          topics++;
        }
      }
      scheduled ??= setImmediate(pass);
    },
    pending: () => pending.size,
    close: () => {
      closed = true;
      if (scheduled) clearImmediate(scheduled);
      scheduled = null;
      pending.clear();
      topics = 0;
    },
  };
};
