/**
 * The in-process bus for live observations (DESIGN §7). The observer, the apply loop and the
 * event store publish; the ws hub, metrics and webhooks subscribe. Message types are snake_case
 * (transport names, never confused with domain events). Observations are not admin changes: they
 * never enter the event log.
 */
export type ClientInfo = {
  client_id: string;
  username: string | null;
  address: string | null;
  port: number | null;
  protocol: string | null;
  keepalive: number | null;
  clean: boolean | null;
  connected_at: string;
};

export type LiveMessage =
  | { type: 'broker_status'; up: boolean; reason?: string; at: string }
  | { type: 'broker_stats'; stats: Record<string, number | string>; at: string }
  | { type: 'broker_log'; line: string; at: string }
  | { type: 'client_connected'; client: ClientInfo; at: string }
  | { type: 'client_disconnected'; client_id: string; username: string | null; reason: string; at: string }
  | { type: 'topic_message'; topic: string; qos: 0 | 1 | 2; retain: boolean; bytes: number; preview: string; preview_kind: 'text' | 'json' | 'binary'; at: string }
  | { type: 'schema_violation'; schema_id: number; schema_name: string; topic: string; errors: { path: string; message: string }[]; at: string }
  | { type: 'sparkplug_state'; group: string; edge_node: string; device: string | null; state: 'online' | 'offline' | 'stale'; detail: Record<string, unknown>; at: string }
  | { type: 'apply_status'; status: unknown; at: string }
  | { type: 'event_appended'; seq: number; stream: string; event_type: string; actor: { kind: string; id: string }; at: string }
  | { type: 'security_event'; category: string; severity: 'info' | 'warning' | 'critical'; message: string; at: string };

export type LiveType = LiveMessage['type'];
export type LiveOf<T extends LiveType> = Extract<LiveMessage, { type: T }>;

export type LiveBus = {
  publish(message: LiveMessage): void;
  /** Subscribe to every message (types omitted) or to some types. Returns unsubscribe. */
  subscribe(listener: (m: LiveMessage) => void, types?: readonly LiveType[]): () => void;
};

/** Listeners run synchronously; one that throws is reported and never breaks the publisher. */
export const createLiveBus = (onError: (e: unknown) => void = () => {}): LiveBus => {
  const listeners = new Set<{ fn: (m: LiveMessage) => void; types: ReadonlySet<LiveType> | null }>();
  return {
    publish: (message) => {
      for (const l of listeners) {
        if (l.types && !l.types.has(message.type)) continue;
        try { l.fn(message); } catch (e) { onError(e); }
      }
    },
    subscribe: (fn, types) => {
      const entry = { fn, types: types ? new Set(types) : null };
      listeners.add(entry);
      return () => { listeners.delete(entry); };
    },
  };
};
