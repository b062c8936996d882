/**
 * The live push channel `/api/v1/broker/events` (DESIGN §7). Raw `ws` in noServer mode on the
 * HTTP(S) server's 'upgrade' event, so the token is checked before any WebSocket exists:
 *
 *   client: Sec-WebSocket-Protocol: mcm.v1, bearer.<jwt>
 *   no/bad/expired/revoked token → HTTP 401 (JSON error body), socket closed, no upgrade
 *   otherwise → 101 with subprotocol mcm.v1, then {"type":"snapshot", status, stats, clients, at}
 *   first, then the LiveBus messages the client's role may see (client-messages.ts).
 *
 * The token is checked again every `recheckMs`, on every heartbeat, and at once when an admin
 * user's or an API token's stream changes, so expiry or revocation (password, role, disabled, MFA
 * change; an API token revoked) closes the socket with 4401. Heartbeats (ping/pong) terminate peers that stopped answering.
 *
 * Bus messages are fanned out once per event-loop turn (live-batch.ts: topic messages coalesced
 * per topic within the turn, delivery passes bounded in time), with every socket written to in a
 * pass corked until its end, so a burst costs one write per client, not one per message per
 * client. Each client also has a bounded queue for when its socket backs up (client-queue.ts).
 * Both kinds of drop are reported to the client as {"type":"drops","count":N,"total":M} and to
 * the metrics.
 */
import type { Server as HttpServer, IncomingMessage } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { Clock } from '../../core/ports.ts';
import { topicMatches } from '../../core/topic-match.ts';
import type { SignedInAdmin } from '../http/auth/authenticate.ts';
import type { LiveBus, LiveMessage } from '../live/live-bus.ts';
import type { SecurityEventInput } from '../sqlite/security-events.ts';
import { parseClientRequest, redactedForm, visibilityFor, WS_ERROR_CODES } from './client-messages.ts';
import { createClientQueue, type ClientQueue } from './client-queue.ts';
import { createLiveBatch } from './live-batch.ts';
import { admitUpgrade, CLOSE_UNAUTHENTICATED, refuseUpgrade, WS_SUBPROTOCOL, type Authenticate } from './ws-auth.ts';

export const WS_PATH = '/api/v1/broker/events';

/** How long a client the hub closes has to answer the close frame before its socket is cut. */
export const CLOSE_GRACE_MS = 1_000;

/** RFC 6455 §7.4.1 close codes used here. */
export const CLOSE_CODES = {
  GOING_AWAY: 1001,
  UNSUPPORTED_DATA: 1003,
  TOO_BIG: 1009,
  TRY_AGAIN_LATER: 1013,
  UNAUTHENTICATED: CLOSE_UNAUTHENTICATED,
} as const;

export type WsHubOptions = Readonly<{
  path: string;
  /** Ping every interval; a peer that has not answered the previous ping is terminated. */
  heartbeatMs: number;
  /** How often every client's token is checked again (also on each heartbeat). */
  recheckMs: number;
  /** Largest frame a client may send (ws closes with 1009 above it). */
  maxPayloadBytes: number;
  /** Above this many unsent bytes on a socket, topic messages are coalesced. */
  highWaterBytes: number;
  /** Non-topic messages kept for a congested client; one more closes it with 1013. */
  maxQueued: number;
  /** Distinct topics kept (latest message each) for a congested client, and pending in a turn's batch. */
  maxTopics: number;
  flushMs: number;
  /** A fan-out pass yields to the event loop after this long (live-batch.ts). */
  sliceMs: number;
  dropsReportMs: number;
  /** Topic filters per client. */
  maxFilters: number;
  maxClients: number;
}>;

export const DEFAULT_WS_HUB_OPTIONS: WsHubOptions = {
  path: WS_PATH,
  heartbeatMs: 30_000,
  recheckMs: 30_000,
  maxPayloadBytes: 64 * 1024,
  highWaterBytes: 1024 * 1024,
  maxQueued: 1_000,
  maxTopics: 10_000,
  flushMs: 100,
  sliceMs: 20,
  dropsReportMs: 5_000,
  maxFilters: 100,
  maxClients: 1_000,
};

export type WsHubDeps = Readonly<{
  bus: LiveBus;
  authenticate: Authenticate;
  clock: Clock;
  logger: Logger;
  /** What a client gets first: {status, stats, clients} — whatever the observer has so far. */
  snapshot: () => Readonly<Record<string, unknown>>;
  metrics?: { wsDropped(n: number): void } | null;
  /** Refused tokens are recorded as REST does (auth.token_invalid / auth.token_revoked). */
  securityLog?: { record(input: SecurityEventInput): unknown } | null;
  options?: Partial<WsHubOptions>;
}>;

export type WsHub = {
  /** Handles upgrades on `server` (other paths: 404). Returns a function that stops that. */
  attach(server: HttpServer | HttpsServer): () => void;
  clientCount(): number;
  /** Checks every client's token now; the revoked and expired ones are closed with 4401. */
  recheckAuth(): void;
  /** Closes every client (1001), stops the timers, leaves the bus. */
  close(): Promise<void>;
};

type Client = {
  ws: WebSocket;
  /** The upgraded socket ws writes to: corked for the length of a fan-out pass. */
  socket: Duplex;
  corked: boolean;
  /** Messages coalesced away in the hub's batch before they reached this client's queue. */
  batchDrops: number;
  token: string;
  admin: SignedInAdmin;
  /** null: every topic (no subscribe yet). */
  filters: string[] | null;
  queue: ClientQueue;
  alive: boolean;
  reportedDrops: number;
  closed: boolean;
};

const ADMIN_STREAM_PREFIX = 'admin-user:';
/** An API token revoked (issue 17): its open sockets close at once too. */
const API_TOKEN_STREAM_PREFIX = 'api-token:';

export const createWsHub = (deps: WsHubDeps): WsHub => {
  const { bus, authenticate, clock, logger } = deps;
  const options: WsHubOptions = { ...DEFAULT_WS_HUB_OPTIONS, ...deps.options };
  const clients = new Set<Client>();
  const detachers = new Set<() => void>();
  let shuttingDown = false;
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: options.maxPayloadBytes,
    perMessageDeflate: false,
    clientTracking: false,
    handleProtocols: (protocols) => (protocols.has(WS_SUBPROTOCOL) ? WS_SUBPROTOCOL : false),
  });

  const send = (c: Client, message: Record<string, unknown>, topic?: string): void => c.queue.push(JSON.stringify(message), topic);

  const drop = (c: Client): void => {
    c.closed = true;
    clients.delete(c);
    c.queue.close();
  };
  const closeClient = (c: Client, code: number, reason: string): void => {
    if (c.closed) return;
    drop(c);
    try {
      c.ws.close(code, reason);
    } catch {
      c.ws.terminate();
      return;
    }
    // A peer that never answers the close frame (one sending garbage, say) would keep its socket
    // for ws's closeTimeout (30 s); it gets CLOSE_GRACE_MS, as at shutdown.
    const cutOff = setTimeout(() => c.ws.terminate(), CLOSE_GRACE_MS);
    cutOff.unref();
    c.ws.once('close', () => clearTimeout(cutOff));
  };

  const recheck = (c: Client): void => {
    const r = authenticate(c.token);
    if (r.ok) {
      c.admin = r.admin;
      return;
    }
    logger.info({ username: c.admin.username, reason: r.reason }, 'ws client closed: token no longer valid');
    closeClient(c, CLOSE_CODES.UNAUTHENTICATED, r.reason === 'expired' ? 'token expired' : `token ${r.reason}`);
  };
  const recheckAuth = (): void => {
    for (const c of [...clients]) recheck(c);
  };

  const corked: Client[] = [];
  const uncorkAll = (): void => {
    for (const c of corked) {
      c.corked = false;
      c.socket.uncork();
    }
    corked.length = 0;
  };

  /** Sends `m` to every client that may see it; `superseded`: coalesced messages it stands for. */
  const fanOut = (m: LiveMessage, superseded: number, send: boolean): void => {
    const topic = m.type === 'topic_message' ? m.topic : undefined;
    let full: string | undefined;
    let redacted: string | undefined;
    for (const c of clients) {
      if (topic !== undefined && c.filters !== null && !c.filters.some((f) => topicMatches(f, topic))) continue;
      const v = visibilityFor(c.admin.role, m);
      if (v === 'none') continue;
      if (superseded > 0) {
        c.batchDrops += superseded;
        deps.metrics?.wsDropped(superseded);
      }
      if (!send) continue;
      if (!c.corked) {
        c.corked = true;
        c.socket.cork();
        corked.push(c);
      }
      const data = v === 'full' ? (full ??= JSON.stringify(m)) : (redacted ??= JSON.stringify(redactedForm(m)));
      c.queue.push(data, topic);
    }
  };
  const batch = createLiveBatch<LiveMessage>({
    options,
    deliver: (m, superseded) => fanOut(m, superseded, true),
    overflow: (m) => fanOut(m, 1, false),
    passDone: uncorkAll,
    onError: (e) => logger.warn({ err: e instanceof Error ? e.message : String(e) }, 'ws fan-out failed for one message'),
  });

  const onBus = (m: LiveMessage): void => {
    // The revocation of a signed-in admin takes effect on the socket at once, as on REST.
    if (m.type === 'event_appended' && (m.stream.startsWith(ADMIN_STREAM_PREFIX) || m.stream.startsWith(API_TOKEN_STREAM_PREFIX))) recheckAuth();
    if (clients.size === 0) return;
    batch.add(m, m.type === 'topic_message' ? m.topic : undefined);
  };
  const unsubscribeBus = bus.subscribe(onBus);

  const onMessage = (c: Client, data: RawData, isBinary: boolean): void => {
    if (c.closed) return;
    if (isBinary) {
      closeClient(c, CLOSE_CODES.UNSUPPORTED_DATA, 'binary frames are not supported: send JSON text');
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(data.toString());
    } catch {
      closeClient(c, CLOSE_CODES.UNSUPPORTED_DATA, 'frames must be JSON text');
      return;
    }
    const req = parseClientRequest(value, options.maxFilters);
    if (req.kind === 'error') {
      send(c, { type: 'error', code: req.code, message: req.message, details: req.details });
      return;
    }
    if (req.kind === 'subscribe') {
      const next = [...new Set([...(c.filters ?? []), ...req.filters])];
      if (next.length > options.maxFilters) {
        send(c, { type: 'error', code: WS_ERROR_CODES.MESSAGE_INVALID, message: `at most ${options.maxFilters} topic filters per client`, details: [{ count: next.length }] });
        return;
      }
      c.filters = next;
    } else {
      const gone = new Set(req.filters);
      c.filters = (c.filters ?? []).filter((f) => !gone.has(f));
    }
    send(c, { type: 'subscriptions', filters: c.filters });
  };

  const connected = (ws: WebSocket, socket: Duplex, token: string, admin: SignedInAdmin): void => {
    const c: Client = {
      ws, socket, corked: false, batchDrops: 0, token, admin, filters: null, alive: true, reportedDrops: 0, closed: false,
      queue: createClientQueue({
        sink: ws,
        options,
        onDrop: (n) => deps.metrics?.wsDropped(n),
        onOverflow: () => {
          logger.warn({ username: c.admin.username }, 'ws client too slow: closed');
          closeClient(c, CLOSE_CODES.TRY_AGAIN_LATER, 'too slow');
        },
      }),
    };
    let snapshot: Readonly<Record<string, unknown>> = {};
    try {
      snapshot = deps.snapshot();
    } catch (err) {
      logger.warn({ err: (err as Error).message }, 'ws snapshot failed');
    }
    // Sent before the client joins the broadcast set: the snapshot always comes first.
    send(c, { ...snapshot, type: 'snapshot', at: clock.now() });
    clients.add(c);
    ws.on('message', (data, isBinary) => onMessage(c, data, isBinary));
    ws.on('pong', () => { c.alive = true; });
    ws.on('close', () => drop(c));
    // Oversized frames, invalid UTF-8, protocol errors: ws closes the socket itself (1009, 1007, 1002).
    ws.on('error', (err) => logger.debug({ err: err.message }, 'ws client error'));
  };

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const admitted = admitUpgrade(req, socket, { path: options.path, authenticate, securityLog: deps.securityLog ?? null, logger });
    if (admitted === null) return;
    if (shuttingDown) {
      refuseUpgrade(socket, 503, WS_ERROR_CODES.SHUTTING_DOWN, 'the server is shutting down');
      return;
    }
    if (clients.size >= options.maxClients) {
      refuseUpgrade(socket, 503, WS_ERROR_CODES.TOO_MANY_CLIENTS, `at most ${options.maxClients} live clients`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => connected(ws, socket, admitted.token, admitted.admin));
  };

  const heartbeat = setInterval(() => {
    for (const c of [...clients]) {
      if (!c.alive) {
        logger.info({ username: c.admin.username }, 'ws client did not answer the last ping: terminated');
        drop(c);
        c.ws.terminate();
        continue;
      }
      c.alive = false;
      try { c.ws.ping(); } catch { /* closing already */ }
      recheck(c);
    }
  }, options.heartbeatMs);
  heartbeat.unref();
  const rechecks = setInterval(recheckAuth, options.recheckMs);
  rechecks.unref();
  const dropReports = setInterval(() => {
    for (const c of clients) {
      const total = c.queue.drops() + c.batchDrops;
      if (total === c.reportedDrops) continue;
      send(c, { type: 'drops', count: total - c.reportedDrops, total, at: clock.now() });
      c.reportedDrops = total;
    }
  }, options.dropsReportMs);
  dropReports.unref();

  return {
    attach: (server) => {
      server.on('upgrade', onUpgrade);
      const detach = (): void => {
        server.off('upgrade', onUpgrade);
        detachers.delete(detach);
      };
      detachers.add(detach);
      return detach;
    },
    clientCount: () => clients.size,
    recheckAuth,
    close: async () => {
      if (shuttingDown) return;
      shuttingDown = true;
      for (const detach of [...detachers]) detach();
      unsubscribeBus();
      batch.close();
      uncorkAll();
      clearInterval(heartbeat);
      clearInterval(rechecks);
      clearInterval(dropReports);
      const sockets = [...clients].map((c) => c.ws);
      for (const c of [...clients]) closeClient(c, CLOSE_CODES.GOING_AWAY, 'server shutting down');
      // A peer that does not answer the close frame within a second is cut off.
      await Promise.all(sockets.map((ws) => new Promise<void>((resolve) => {
        if (ws.readyState === ws.CLOSED) { resolve(); return; }
        const t = setTimeout(() => { ws.terminate(); resolve(); }, 1_000);
        ws.once('close', () => { clearTimeout(t); resolve(); });
      })));
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
};
