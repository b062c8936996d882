/**
 * Admin changes on the live channel (DESIGN §7): every committed append becomes one
 * `event_appended` message per event — seq, stream, event type, actor {kind, id}, time. Redacted:
 * no data payload at all (it may hold hashes, DESIGN §4), and no actor ip or request id. The ws
 * hub strips even this down to seq and time for viewers (client-messages.ts).
 */
import type { EventStore } from '../../core/ports.ts';
import type { LiveBus } from '../live/live-bus.ts';

/** Subscribes to the store's appends; returns the unsubscribe function. */
export const publishEventAppended = (deps: Readonly<{ store: Pick<EventStore, 'onAppend'>; bus: LiveBus }>): (() => void) =>
  deps.store.onAppend((recorded) => {
    for (const e of recorded) {
      deps.bus.publish({
        type: 'event_appended',
        seq: e.seq,
        stream: e.stream,
        event_type: e.type,
        actor: { kind: e.actor.kind, id: e.actor.id },
        at: e.at,
      });
    }
  });
