/**
 * The in-process bus for live observations (DESIGN §7). The observer, the apply loop and the
 * event store publish; the ws hub, metrics and webhooks subscribe. Message types are snake_case
 * (transport names, never confused with domain events). Observations are not admin changes: they
 * never enter the event log.
 */

/** Figures derived from `$SYS` with MCM's own traffic and connections left out (adapters/mqtt/sys-stats.ts); null until the broker said. */
export type SysFigures = Readonly<{
  /**
   * `$SYS/broker/publish/messages/received`: PUBLISH packets the broker received from clients since it
   * started (connects, pings and other control packets are not counted). Includes the few that MCM's
   * own probes publish to `$mcm/…` (two per probe round).
   */
  publish_received: number | null;
  /**
   * `$SYS/broker/publish/messages/sent` minus the PUBLISH packets delivered to MCM's observer: copies
   * delivered to the other subscribers. Counted from when the observer first saw the counter (it
   * starts at 0 then, and again when the broker restarts), so it is meant for rates.
   */
  publish_sent: number | null;
  /** `$SYS/broker/clients/connected` minus MCM's own live connections (observer, probes). */
  clients_connected: number | null;
}>;

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
  | { type: 'broker_stats'; stats: Record<string, number | string>; figures: SysFigures; at: string }
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
