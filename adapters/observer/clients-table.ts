/**
 * The live table of connected MQTT clients, rebuilt from the broker's connection log lines
 * (reference §5: 2.0 has no query for it) plus a bounded list of recent disconnects with their
 * reasons. Changes are pushed as `client_connected` / `client_disconnected` on the live bus.
 * MCM's own connections are left out (DESIGN §6, issue 12): the probes (`mcm-probe-…`), the
 * observer (`mcm-observer-…`) and anything logged in as the service account. They are tracked
 * apart (`own()`), so figures that come from `$SYS` (which counts everyone) can subtract them.
 * A broker start or stop line empties the table: every connection died with the process.
 */
import type { Clock } from '../../core/ports.ts';
import type { ClientInfo, LiveBus } from '../live/live-bus.ts';
import { PROBE_CLIENT_PREFIX } from '../mosquitto/probe.ts';
import { parseConnectionLine, type ConnectionEvent } from '../mqtt/connection-log.ts';
import { OBSERVER_CLIENT_PREFIX } from '../mqtt/observer.ts';

export type ClientEntry = ClientInfo & Readonly<{ bridge: boolean }>;

export type RecentDisconnect = Readonly<{
  client_id: string;
  username: string | null;
  address: string | null;
  port: number | null;
  reason: string;
  connected_at: string | null;
  disconnected_at: string;
}>;

export type IngestOptions = Readonly<{
  /** Replayed history (log tail at start-up): update the table, push nothing. */
  silent?: boolean;
  /** When the line says it happened (ISO); default the clock's now. */
  at?: string;
}>;

export type ClientsTable = {
  ingest(event: ConnectionEvent, options?: IngestOptions): void;
  /** Parses one log line; returns whether it was a connection line. */
  ingestLine(line: string, options?: IngestOptions): boolean;
  /** Every connection is gone (broker restarted, or we lost track): each is recorded as disconnected. */
  clear(reason: string, options?: IngestOptions): void;
  list(): ClientEntry[];
  get(clientId: string): ClientEntry | null;
  /** Newest first. */
  recent(): RecentDisconnect[];
  size(): number;
  /** Client ids of MCM's own live connections (observer, probes, the service account), which `list` leaves out. */
  own(): string[];
  /** Connect lines ignored because the table was full. */
  overflow(): number;
};

export type ClientsTableDeps = Readonly<{
  bus: LiveBus;
  clock: Clock;
  recentLimit?: number;
  /** A safety bound: the broker's own max_connections is the real one. */
  maxClients?: number;
  /** Client-id prefixes of MCM's own connections (default: probes and observer). */
  excludePrefixes?: readonly string[];
  /** Usernames of MCM's own connections (the service account). */
  excludeUsernames?: readonly string[];
}>;

export const createClientsTable = (deps: ClientsTableDeps): ClientsTable => {
  const recentLimit = deps.recentLimit ?? 100;
  const maxClients = deps.maxClients ?? 100_000;
  const exclude = deps.excludePrefixes ?? [PROBE_CLIENT_PREFIX, OBSERVER_CLIENT_PREFIX];
  const excludeUsers = new Set(deps.excludeUsernames ?? []);
  const clients = new Map<string, ClientEntry>();
  const own = new Set<string>();
  // Ring of recent disconnects, oldest first from `next`.
  const recent: RecentDisconnect[] = [];
  let next = 0;
  let overflow = 0;

  const excluded = (id: string, username: string | null): boolean =>
    exclude.some((p) => id.startsWith(p)) || (username !== null && excludeUsers.has(username));

  const remember = (r: RecentDisconnect): void => {
    if (recentLimit <= 0) return;
    if (recent.length < recentLimit) recent.push(r);
    else {
      recent[next] = r;
      next = (next + 1) % recentLimit;
    }
  };

  const drop = (entry: ClientEntry, reason: string, at: string, silent: boolean): void => {
    clients.delete(entry.client_id);
    remember({
      client_id: entry.client_id, username: entry.username, address: entry.address, port: entry.port,
      reason, connected_at: entry.connected_at, disconnected_at: at,
    });
    if (!silent) deps.bus.publish({ type: 'client_disconnected', client_id: entry.client_id, username: entry.username, reason, at });
  };

  const clear = (reason: string, options: IngestOptions = {}): void => {
    const at = options.at ?? deps.clock.now();
    own.clear();
    for (const entry of [...clients.values()]) drop(entry, reason, at, options.silent === true);
  };

  const ingest = (event: ConnectionEvent, options: IngestOptions = {}): void => {
    const silent = options.silent === true;
    switch (event.kind) {
      case 'broker_started':
        clear('broker restarted', options);
        return;
      case 'broker_stopped':
        clear('broker stopped', options);
        return;
      case 'connected': {
        if (excluded(event.clientId, event.username)) {
          if (own.size < maxClients) own.add(event.clientId);
          // A device taking over an id MCM used (or the reverse) replaces that connection.
          const previous = clients.get(event.clientId);
          if (previous) drop(previous, 'taken over by a new connection', options.at ?? deps.clock.now(), silent);
          return;
        }
        own.delete(event.clientId);
        const at = options.at ?? deps.clock.now();
        const previous = clients.get(event.clientId);
        // The "already connected" line normally comes first; if it was missed, the old one is gone anyway.
        if (previous) drop(previous, 'taken over by a new connection', at, silent);
        else if (clients.size >= maxClients) {
          overflow++;
          return;
        }
        const entry: ClientEntry = {
          client_id: event.clientId,
          username: event.username,
          address: event.address,
          port: event.port,
          protocol: event.protocol,
          keepalive: event.keepalive,
          clean: event.clean,
          connected_at: at,
          bridge: event.bridge,
        };
        clients.set(event.clientId, entry);
        if (!silent) {
          const { bridge: _bridge, ...client } = entry;
          deps.bus.publish({ type: 'client_connected', client, at });
        }
        return;
      }
      case 'disconnected': {
        own.delete(event.clientId);
        const entry = clients.get(event.clientId);
        // Unknown ids (refused logins, clients from before we started) change nothing.
        if (!entry) return;
        drop(entry, event.reason, options.at ?? deps.clock.now(), silent);
        return;
      }
    }
  };

  return {
    ingest,
    ingestLine(line, options) {
      const event = parseConnectionLine(line);
      if (!event) return false;
      ingest(event, options);
      return true;
    },
    clear,
    list: () => [...clients.values()].sort((a, b) => (a.client_id < b.client_id ? -1 : a.client_id > b.client_id ? 1 : 0)),
    get: (id) => clients.get(id) ?? null,
    recent: () => (recent.length < recentLimit ? [...recent] : [...recent.slice(next), ...recent.slice(0, next)]).reverse(),
    size: () => clients.size,
    own: () => [...own],
    overflow: () => overflow,
  };
};
