/**
 * The connected MQTT clients as the UI keeps them (no DOM): loaded from `GET /clients`, replaced
 * by the ws `snapshot`, then kept current by `client_connected` / `client_disconnected`, with a
 * bounded feed of connects and disconnects, newest first.
 *
 * A load races the live stream: an event can arrive while `GET /clients` is in flight, and the
 * answer may or may not include it. So events are buffered during a load and replayed on top of
 * its answer (connect = upsert, disconnect = delete: replaying is harmless either way). A
 * snapshot that arrives meanwhile wins over the answer: it is newer, and the events after it
 * come in order on the same socket.
 */

export type ClientRow = Readonly<{
  client_id: string;
  username: string | null;
  address: string | null;
  port: number | null;
  protocol: string | null;
  keepalive: number | null;
  clean: boolean | null;
  connected_at: string;
  bridge?: boolean;
}>;

export type RecentDisconnect = Readonly<{
  client_id: string;
  username: string | null;
  address: string | null;
  port: number | null;
  reason: string;
  connected_at: string | null;
  disconnected_at: string;
}>;

export type FeedEntry = Readonly<{
  kind: 'connected' | 'disconnected';
  client_id: string;
  username: string | null;
  address: string | null;
  /** Why a client went away (the broker's words), for disconnects. */
  reason: string | null;
  at: string;
}>;

type Pending =
  | { kind: 'connected'; client: ClientRow; at: string }
  | { kind: 'disconnected'; client_id: string; username: string | null; reason: string; at: string };

export type ClientsModel = {
  /** A `GET /clients` is about to be sent. */
  beginLoad(): void;
  /** Its answer: the list, and the recent disconnects (newest first); both seed the feed. */
  finishLoad(items: readonly ClientRow[], recent: readonly RecentDisconnect[]): void;
  /** The load failed: stop buffering, apply what came in. */
  abortLoad(): void;
  /** A ws snapshot's client list. */
  snapshot(items: readonly ClientRow[]): void;
  connected(client: ClientRow, at: string): void;
  disconnected(clientId: string, username: string | null, reason: string, at: string): void;
  /** Sorted by client id. */
  rows(): ClientRow[];
  get(clientId: string): ClientRow | null;
  size(): number;
  /** Newest first, at most `feedLimit`. */
  feed(): FeedEntry[];
  loaded(): boolean;
};

export const createClientsModel = (feedLimit = 50): ClientsModel => {
  const clients = new Map<string, ClientRow>();
  let feed: FeedEntry[] = [];
  let loading = false;
  let snapshotSinceLoad = false;
  let everLoaded = false;
  let buffer: Pending[] = [];

  const addFeed = (e: FeedEntry): void => {
    if (feed.some((f) => f.kind === e.kind && f.client_id === e.client_id && (f.at === e.at || (e.kind === 'connected' && e.at < f.at)))) return;
    feed = [e, ...feed].sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0)).slice(0, feedLimit);
  };
  const run = (p: Pending): void => {
    if (p.kind === 'connected') {
      clients.set(p.client.client_id, p.client);
      addFeed({ kind: 'connected', client_id: p.client.client_id, username: p.client.username, address: p.client.address, reason: null, at: p.at });
    } else {
      const known = clients.get(p.client_id);
      clients.delete(p.client_id);
      addFeed({ kind: 'disconnected', client_id: p.client_id, username: p.username, address: known?.address ?? null, reason: p.reason, at: p.at });
    }
  };
  const handle = (p: Pending): void => {
    if (loading) buffer.push(p);
    run(p);
  };
  const replace = (items: readonly ClientRow[]): void => {
    clients.clear();
    for (const c of items) clients.set(c.client_id, c);
  };

  return {
    beginLoad: () => {
      loading = true;
      snapshotSinceLoad = false;
      buffer = [];
    },
    finishLoad: (items, recent) => {
      if (!snapshotSinceLoad) {
        replace(items);
        for (const p of buffer) run(p);
      }
      // The connects of the clients still connected, so the feed starts with what is known.
      for (const c of items) {
        addFeed({ kind: 'connected', client_id: c.client_id, username: c.username, address: c.address, reason: null, at: c.connected_at });
      }
      for (const r of recent) {
        addFeed({ kind: 'disconnected', client_id: r.client_id, username: r.username, address: r.address, reason: r.reason, at: r.disconnected_at });
      }
      loading = false;
      buffer = [];
      everLoaded = true;
    },
    abortLoad: () => {
      loading = false;
      buffer = [];
    },
    snapshot: (items) => {
      replace(items);
      if (loading) {
        snapshotSinceLoad = true;
        buffer = [];
      }
      everLoaded = true;
    },
    connected: (client, at) => handle({ kind: 'connected', client, at }),
    disconnected: (clientId, username, reason, at) => handle({ kind: 'disconnected', client_id: clientId, username, reason, at }),
    rows: () => [...clients.values()].sort((a, b) => (a.client_id < b.client_id ? -1 : a.client_id > b.client_id ? 1 : 0)),
    get: (id) => clients.get(id) ?? null,
    size: () => clients.size,
    feed: () => feed,
    loaded: () => everLoaded,
  };
};
