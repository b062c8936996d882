/**
 * One ws client's outgoing queue (DESIGN §7: slow clients get coalesced updates and a drop
 * counter, never unbounded buffers). While the socket's buffer (`ws.bufferedAmount`: what the
 * kernel has not taken yet) is under the high-water mark, frames go straight out. Above it:
 *   - topic messages are coalesced per topic: only the latest one per topic is kept, every one
 *     it replaces counts as a drop; past `maxTopics` pending topics a new topic is dropped too;
 *   - every other message is kept in order, up to `maxQueued`; one more means the client cannot
 *     keep up even with coalescing, and `onOverflow` is called (the hub closes it with 1013).
 * A timer flushes what is pending while the buffer drains.
 */
export type QueueSink = {
  readonly bufferedAmount: number;
  send(data: string): void;
};

export type ClientQueueOptions = Readonly<{
  highWaterBytes: number;
  maxQueued: number;
  maxTopics: number;
  flushMs: number;
}>;

export type ClientQueue = {
  /** `topic` set: coalescable topic message. */
  push(data: string, topic?: string): void;
  /** Messages dropped so far (coalesced away or refused). */
  drops(): number;
  pending(): number;
  /** Stops the flush timer and forgets what is pending. */
  close(): void;
};

export const createClientQueue = (deps: Readonly<{
  sink: QueueSink;
  options: ClientQueueOptions;
  onDrop: (n: number) => void;
  onOverflow: () => void;
}>): ClientQueue => {
  const { sink, options, onDrop, onOverflow } = deps;
  const others: string[] = [];
  const topics = new Map<string, string>();
  let dropped = 0;
  let timer: NodeJS.Timeout | null = null;
  let closed = false;

  const drop = (n: number): void => {
    dropped += n;
    onDrop(n);
  };
  const congested = (): boolean => sink.bufferedAmount >= options.highWaterBytes;

  /** Sends in order (others first, then the latest per topic) while the buffer has room. */
  const drain = (): void => {
    if (closed) return;
    while (others.length > 0 && !congested()) sink.send(others.shift()!);
    for (const [topic, data] of topics) {
      if (others.length > 0 || congested()) break;
      topics.delete(topic);
      sink.send(data);
    }
    if (others.length + topics.size > 0 && timer === null) {
      timer = setTimeout(() => {
        timer = null;
        drain();
      }, options.flushMs);
      timer.unref();
    }
  };

  return {
    push: (data, topic) => {
      if (closed) return;
      if (others.length + topics.size === 0 && !congested()) {
        sink.send(data);
        return;
      }
      if (topic !== undefined) {
        if (topics.has(topic)) {
          drop(1);
          topics.set(topic, data);
        } else if (topics.size >= options.maxTopics) {
          drop(1);
        } else {
          topics.set(topic, data);
        }
      } else {
        if (others.length >= options.maxQueued) {
          onOverflow();
          return;
        }
        others.push(data);
      }
      drain();
    },
    drops: () => dropped,
    pending: () => others.length + topics.size,
    close: () => {
      closed = true;
      if (timer !== null) clearTimeout(timer);
      timer = null;
      others.length = 0;
      topics.clear();
    },
  };
};
