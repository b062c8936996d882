/**
 * The live stream client: ws /api/v1/broker/events with `Sec-WebSocket-Protocol: mcm.v1,
 * bearer.<jwt>` (DESIGN §7). No DOM: the WebSocket constructor, timers and randomness are passed
 * in, so node:test drives it against the real hub.
 *
 * Reconnect: exponential backoff with jitter (0.5 s doubling to 15 s). Resume: after a reconnect
 * the topic filters are sent again, the hub's snapshot restores status, stats and clients, and
 * `onResume(lastSeq)` tells listeners the last `event_appended` seq seen before the gap, so a view
 * of the event log can fetch `GET /events?after=lastSeq` and miss nothing. A close with 4401
 * (token expired or revoked) is not retried: the session is over.
 */
export type LiveMessage = { type: string; at?: string; [key: string]: unknown };
export type LiveState = 'connecting' | 'open' | 'closed';

type WsLike = {
  readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
};

export type LiveClientOptions = {
  url: string;
  token: () => string | null;
  WebSocket: new (url: string, protocols: string[]) => WsLike;
  setTimeout?: (fn: () => void, ms: number) => unknown;
  clearTimeout?: (handle: unknown) => void;
  random?: () => number;
  onUnauthorized?: () => void;
  minDelayMs?: number;
  maxDelayMs?: number;
};

export type LiveClient = {
  start(): void;
  stop(): void;
  state(): LiveState;
  /** Listen to one message type ('*' = all); returns unsubscribe. */
  on(type: string, fn: (m: LiveMessage) => void): () => void;
  onState(fn: (s: LiveState) => void): () => void;
  onResume(fn: (lastEventSeq: number | null) => void): () => void;
  /** Narrow topic_message to these filters (null or [] = every topic). Kept across reconnects. */
  setTopicFilters(filters: string[] | null): void;
  /** The last event_appended seq seen. */
  lastEventSeq(): number | null;
};

export const WS_PATH = '/api/v1/broker/events';
export const CLOSE_UNAUTHORIZED = 4401;

/** ws(s)://host/api/v1/broker/events for an http(s) page origin. */
export const liveUrl = (origin: string): string => `${origin.replace(/^http/, 'ws')}${WS_PATH}`;

export const backoffDelay = (attempt: number, random: () => number, min = 500, max = 15_000): number => {
  const base = Math.min(max, min * 2 ** Math.max(0, attempt));
  // Full jitter in the upper half: spreads reconnects of many tabs after a server restart.
  return Math.round(base / 2 + (random() * base) / 2);
};

export const createLiveClient = (opts: LiveClientOptions): LiveClient => {
  const setT = opts.setTimeout ?? ((fn, ms) => setTimeout(fn, ms));
  const clearT = opts.clearTimeout ?? ((h) => clearTimeout(h as ReturnType<typeof setTimeout>));
  const random = opts.random ?? Math.random;
  const handlers = new Map<string, Set<(m: LiveMessage) => void>>();
  const stateListeners = new Set<(s: LiveState) => void>();
  const resumeListeners = new Set<(seq: number | null) => void>();
  let ws: WsLike | null = null;
  let state: LiveState = 'closed';
  let running = false;
  let attempt = 0;
  let timer: unknown = null;
  let filters: string[] | null = null;
  let lastSeq: number | null = null;
  let everOpened = false;

  const setState = (s: LiveState) => {
    if (s === state) return;
    state = s;
    for (const l of stateListeners) l(s);
  };
  const dispatch = (m: LiveMessage) => {
    if (m.type === 'event_appended' && typeof m['seq'] === 'number') lastSeq = Math.max(lastSeq ?? 0, m['seq']);
    for (const key of [m.type, '*']) for (const fn of handlers.get(key) ?? []) fn(m);
  };
  // What the hub holds for this connection: subscribe adds to it, unsubscribe removes (adapters/ws).
  let sent: string[] = [];
  const sendFilters = () => {
    if (!ws || ws.readyState !== 1 || filters === null) return;
    const gone = sent.filter((f) => !filters!.includes(f));
    const added = filters.filter((f) => !sent.includes(f));
    if (gone.length > 0) ws.send(JSON.stringify({ unsubscribe: gone }));
    if (added.length > 0) ws.send(JSON.stringify({ subscribe: added }));
    sent = [...filters];
  };
  const schedule = () => {
    if (!running) return;
    const delay = backoffDelay(attempt++, random, opts.minDelayMs, opts.maxDelayMs);
    timer = setT(connect, delay);
  };
  const connect = () => {
    timer = null;
    if (!running) return;
    const token = opts.token();
    if (!token) { setState('closed'); return; }
    setState('connecting');
    let socket: WsLike;
    try {
      socket = new opts.WebSocket(opts.url, ['mcm.v1', `bearer.${token}`]);
    } catch {
      schedule();
      return;
    }
    ws = socket;
    socket.onopen = () => {
      attempt = 0;
      sent = [];
      setState('open');
      sendFilters();
      if (everOpened) for (const l of resumeListeners) l(lastSeq);
      everOpened = true;
    };
    socket.onmessage = (ev) => {
      if (typeof ev.data !== 'string') return;
      let m: unknown;
      try { m = JSON.parse(ev.data); } catch { return; }
      if (m && typeof m === 'object' && typeof (m as LiveMessage).type === 'string') dispatch(m as LiveMessage);
    };
    socket.onerror = () => { /* onclose follows */ };
    socket.onclose = (ev) => {
      if (ws === socket) ws = null;
      setState(running ? 'connecting' : 'closed');
      if (ev.code === CLOSE_UNAUTHORIZED) {
        running = false;
        setState('closed');
        opts.onUnauthorized?.();
        return;
      }
      schedule();
    };
  };

  return {
    start: () => {
      if (running) return;
      running = true;
      attempt = 0;
      connect();
    },
    stop: () => {
      running = false;
      if (timer !== null) clearT(timer);
      timer = null;
      const s = ws;
      ws = null;
      everOpened = false;
      if (s) { s.onclose = null; s.close(1000, 'bye'); }
      setState('closed');
    },
    state: () => state,
    on: (type, fn) => {
      const set = handlers.get(type) ?? new Set();
      set.add(fn);
      handlers.set(type, set);
      return () => { set.delete(fn); };
    },
    onState: (fn) => { stateListeners.add(fn); return () => { stateListeners.delete(fn); }; },
    onResume: (fn) => { resumeListeners.add(fn); return () => { resumeListeners.delete(fn); }; },
    setTopicFilters: (f) => {
      // Back to "every topic" once narrowed: '#' (the hub never sends $SYS topics as topic_message).
      filters = f && f.length > 0 ? [...new Set(f)] : filters === null ? null : ['#'];
      sendFilters();
    },
    lastEventSeq: () => lastSeq,
  };
};
