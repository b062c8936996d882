/**
 * Group commit (issue 14): commands that arrive in the same turn of the event loop (the requests
 * whose bodies were read in one poll) are decided and appended in ONE write transaction, so one
 * fsync serves all of them; each caller is answered only after that COMMIT, so an acknowledged
 * write is as durable as before. Each command is still decided on the state with the ones before
 * it folded in, and a refused one changes nothing for the others (EventStore.transactGroup).
 */
import type { EventEnvelope } from '../../core/events.ts';
import type { EventStore, GroupItem } from '../../core/ports.ts';

export type Committed<T> = Readonly<{ recorded: EventEnvelope[]; captured: T | undefined }>;

export type GroupCommit = Readonly<{
  /** Runs `item` in the next group; resolves after the COMMIT, rejects with its own error. */
  run<T>(item: GroupItem<T>): Promise<Committed<T>>;
}>;

type Pending = { item: GroupItem<unknown>; resolve: (c: Committed<unknown>) => void; reject: (e: Error) => void };

/** More than this many waiting are committed at once, not in the next turn. */
const MAX_GROUP = 1000;

export const createGroupCommit = (store: Pick<EventStore, 'transactGroup'>): GroupCommit => {
  let queue: Pending[] = [];
  let scheduled: NodeJS.Immediate | null = null;
  const flush = (): void => {
    if (scheduled) clearImmediate(scheduled);
    scheduled = null;
    const group = queue;
    queue = [];
    let outcomes;
    try {
      outcomes = store.transactGroup(group.map((p) => p.item));
    } catch (e) {
      // Rolled back: nothing of the group was written; every caller gets the error (e.g. disk full).
      for (const p of group) p.reject(e as Error);
      return;
    }
    outcomes.forEach((o, i) => {
      const p = group[i] as Pending;
      if ('error' in o) p.reject(o.error);
      else p.resolve(o);
    });
  };
  return {
    run<T>(item: GroupItem<T>): Promise<Committed<T>> {
      return new Promise<Committed<T>>((resolve, reject) => {
        queue.push({ item, resolve: resolve as (c: Committed<unknown>) => void, reject });
        if (queue.length >= MAX_GROUP) flush();
        else scheduled ??= setImmediate(flush);
      });
    },
  };
};
