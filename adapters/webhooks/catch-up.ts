/**
 * The dispatcher's catch-up from the event log (DESIGN §7): admin changes (`event_appended`) are
 * queued from the log, not from the notification alone. The outbox's cursor names the last seq
 * queued and moves in the same transaction as the rows (outbox.ts `advance`), so a change
 * committed just before a crash, or by the CLI while the server was down, is queued at the next
 * start, once per (seq, webhook), to the webhooks subscribed as of that event.
 */
import type { Clock, EventStore } from '../../core/ports.ts';
import { webhookStream } from '../../core/streams.ts';
import type { NewDelivery, WebhookOutbox } from './outbox.ts';
import { eventAppendedOf } from './webhook-triggers.ts';

/** Events read and queued per catch-up transaction (a long gap is queued in several). */
const CATCH_UP_PAGE = 500;

export type SubscriptionHistory = {
  /** Whether webhook `id` was enabled and subscribed to `type` as of event `seq` (its settings then, not now). */
  subscribedAt(id: number, type: string, seq: number): boolean;
  /** Drops what was read: a webhook event was caught up, so the settings over time may differ. */
  forget(): void;
};

/**
 * Each webhook's settings over time, from its own stream: WebhookCreated and WebhookChanged
 * carry the whole subscription. Read when needed, dropped when a webhook event is caught up.
 */
export const createSubscriptionHistory = (store: Pick<EventStore, 'read'>): SubscriptionHistory => {
  type Subscription = Readonly<{ seq: number; enabled: boolean; events: readonly string[] }>;
  const timelines = new Map<number, Subscription[]>();
  const timeline = (id: number): Subscription[] => {
    let t = timelines.get(id);
    if (t === undefined) {
      t = store.read({ stream: webhookStream(id) }).flatMap((e) =>
        e.type === 'WebhookCreated' || e.type === 'WebhookChanged' ? [{ seq: e.seq, enabled: e.data.enabled, events: e.data.events }] : []);
      timelines.set(id, t);
    }
    return t;
  };
  return {
    subscribedAt(id, type, seq) {
      let then: Subscription | null = null;
      for (const s of timeline(id)) {
        if (s.seq > seq) break;
        then = s;
      }
      return then !== null && then.enabled && then.events.includes(type);
    },
    forget: () => timelines.clear(),
  };
};

export type CatchUpDeps = Readonly<{
  store: Pick<EventStore, 'state' | 'headSeq' | 'read'>;
  outbox: Pick<WebhookOutbox, 'advance' | 'cursor'>;
  clock: Clock;
  history: Pick<SubscriptionHistory, 'forget'>;
  /** The dispatcher's rows for these items (counted as pending, past the cap only critical ones). */
  plan(items: readonly { type: string; data: unknown; seq?: number }[]): NewDelivery[];
  /** Recounts the pending rows from the database (a failed page's counts never committed). */
  recount(): void;
  /** Rows were queued: the worker should send them. */
  wake(): void;
}>;

export type CatchUp = {
  /** Re-reads the cursor from the database (at start). */
  reset(): void;
  /** Queues every event after the cursor; throws when a page fails (nothing of it committed). */
  run(): void;
};

export const createCatchUp = (deps: CatchUpDeps): CatchUp => {
  const { store, outbox, clock, history, plan } = deps;

  // How far admin changes have been considered; the database's cursor may lag it by less than a
  // page when nobody listened (no write per change then), and is the authority under the lock.
  let cursorSeen = 0;
  let cursorWritten = 0;

  const reset = (): void => {
    cursorSeen = outbox.cursor();
    cursorWritten = cursorSeen;
  };

  /**
   * Queues `event_appended` for every event after the cursor up to the store's head, a page per
   * transaction, each page's rows and the cursor committing together. Each event goes to the
   * webhooks subscribed as of that event, so a late catch-up sends what the live path would have.
   */
  const run = (): void => {
    for (;;) {
      const head = store.headSeq();
      if (cursorSeen >= head) return;
      // Nobody listens now: nothing to queue, and no write per change. The cursor is still written
      // every page, so a start re-reads at most one page of changes nobody was sent.
      const listened = Object.values(store.state().webhooks).some((h) => h.enabled && h.events.includes('event_appended'));
      if (!listened && head - cursorWritten < CATCH_UP_PAGE) {
        cursorSeen = head;
        return;
      }
      let queued = 0;
      try {
        queued = outbox.advance((cursor) => {
          cursorSeen = cursor;
          cursorWritten = cursor;
          if (cursor >= head) return null;
          const events = store.read({ after: cursor, to: head, limit: CATCH_UP_PAGE });
          if (events.some((e) => e.stream.startsWith('webhook:'))) history.forget();
          const last = events[events.length - 1];
          if (!last) {
            cursorSeen = head; // no rows up to the head (a log cut short): nothing to queue until it grows
            return null;
          }
          cursorSeen = last.seq;
          cursorWritten = last.seq;
          return { rows: plan(events.map((e) => ({ type: 'event_appended', data: eventAppendedOf(e), seq: e.seq }))), through: last.seq };
        }, clock.now()).length;
      } catch (err) {
        // Nothing committed: the cursor stays, and the next append or start queues these events.
        deps.recount();
        reset();
        throw err;
      }
      if (queued > 0) deps.wake();
    }
  };

  return { reset, run };
};
