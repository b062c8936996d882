/**
 * Which live messages become which webhook events (core/webhook-events.ts). The live bus carries
 * states that repeat (an apply status is pushed after every enforcement check, a broker status
 * after every reconnect attempt), so the mapper keeps the little memory needed to send changes
 * only: one `apply_*` per recorded apply result, one `broker_*` per up/down transition.
 */
import type { EventEnvelope } from '../../core/events.ts';
import type { WebhookEventType } from '../../core/webhook-events.ts';
import type { LiveMessage, LiveOf } from '../live/live-bus.ts';

export type WebhookTrigger = { type: WebhookEventType; data: unknown };

/** Bus messages the dispatcher listens to. `event_appended` comes from the event store instead. */
export const TRIGGER_MESSAGE_TYPES = [
  'apply_status', 'broker_status', 'security_event', 'schema_violation', 'client_connected', 'client_disconnected',
] as const satisfies readonly LiveMessage['type'][];

type LastApply = { seq: unknown; at: unknown; result: unknown };

/** `apply_status.status` is the apply loop's ApplyStatus (`last.result`); a bare `{result}` is accepted too. */
const lastApplyOf = (status: unknown): LastApply | null => {
  if (status === null || typeof status !== 'object') return null;
  const s = status as { last?: unknown; result?: unknown; generation?: unknown; at?: unknown };
  if (s.last !== undefined) {
    if (s.last === null || typeof s.last !== 'object') return null;
    const l = s.last as { seq?: unknown; at?: unknown; result?: unknown };
    return { seq: l.seq, at: l.at, result: l.result };
  }
  return s.result === undefined ? null : { seq: s.generation, at: s.at, result: s.result };
};

export type TriggerMapper = (m: LiveMessage) => WebhookTrigger | null;

export const createTriggerMapper = (): TriggerMapper => {
  let lastApplyKey: string | null = null;
  let brokerUp: boolean | null = null;
  return (m) => {
    switch (m.type) {
      case 'apply_status': {
        const last = lastApplyOf(m.status);
        if (!last || (last.result !== 'applied' && last.result !== 'failed')) return null;
        const key = JSON.stringify([last.seq, last.at, last.result]);
        if (key === lastApplyKey) return null;
        lastApplyKey = key;
        return { type: last.result === 'applied' ? 'apply_applied' : 'apply_failed', data: m };
      }
      case 'broker_status': {
        const was = brokerUp;
        brokerUp = m.up;
        // A change only; the first status after start is news only when the broker is down.
        if (was === m.up || (was === null && m.up)) return null;
        return { type: m.up ? 'broker_up' : 'broker_down', data: m };
      }
      case 'security_event':
      case 'schema_violation':
      case 'client_connected':
      case 'client_disconnected':
        return { type: m.type, data: m };
      default:
        return null;
    }
  };
};

/**
 * An admin change as a webhook body's `data`: which event, on which stream, by whom, when —
 * never the event's data, which may hold password hashes or sealed secrets (DESIGN §4, §9).
 */
export const eventAppendedOf = (e: EventEnvelope): LiveOf<'event_appended'> => ({
  type: 'event_appended',
  seq: e.seq,
  stream: e.stream,
  event_type: e.type,
  actor: { kind: e.actor.kind, id: e.actor.id },
  at: e.at,
});
