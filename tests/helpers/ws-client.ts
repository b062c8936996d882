/**
 * A ws client for tests of the live channel (`/api/v1/broker/events`): collects every JSON
 * message, waits for one matching a predicate (generous timeout), and exposes the close code.
 * A refused upgrade is returned as its HTTP response, so tests assert the 401 itself.
 *
 *   const c = await openWs(t, wsUrl(h.baseUrl), bearer(await h.tokenFor('viewer')));
 *   const snap = await c.waitFor((m) => m.type === 'snapshot');
 */
import type { TestContext } from 'node:test';
import WebSocket from 'ws';

export const WS_EVENTS_PATH = '/api/v1/broker/events';

export const wsUrl = (baseUrl: string, path: string = WS_EVENTS_PATH): string => baseUrl.replace(/^http/, 'ws') + path;

/** `Sec-WebSocket-Protocol: mcm.v1, bearer.<token>` as the ws client's protocol list. */
export const bearer = (token: string): string[] => ['mcm.v1', `bearer.${token}`];

export type WsTestClient = {
  ws: WebSocket;
  /** Every JSON message received so far, in order. */
  messages: any[];
  /** The first message (already received or still to come) that matches. */
  waitFor(pred: (m: any) => boolean, timeoutMs?: number): Promise<any>;
  /** Resolves with the close code and reason once the socket is closed (rejects after the timeout). */
  closed(timeoutMs?: number): Promise<{ code: number; reason: string }>;
};

/** Fails a wait instead of hanging the test run. */
const within = <T>(p: Promise<T>, timeoutMs: number, what: string): Promise<T> =>
  new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not happen within ${timeoutMs} ms`)), timeoutMs);
    p.then((v) => { clearTimeout(timer); resolve(v); }, (e: unknown) => { clearTimeout(timer); reject(e); });
  });

const HANDSHAKE_TIMEOUT_MS = 15_000;

export const openWs = (t: TestContext, url: string, protocols: string[]): Promise<WsTestClient> =>
  new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, { handshakeTimeout: HANDSHAKE_TIMEOUT_MS });
    const messages: any[] = [];
    const waiters = new Set<{ pred: (m: any) => boolean; done: (m: any) => void }>();
    ws.on('message', (data) => {
      const m = JSON.parse(data.toString());
      messages.push(m);
      for (const w of [...waiters]) if (w.pred(m)) { waiters.delete(w); w.done(m); }
    });
    const closed = new Promise<{ code: number; reason: string }>((res) => {
      ws.on('close', (code, reason) => res({ code, reason: reason.toString() }));
    });
    // Before 'open' an error fails the connect; after it, it shows as the close code.
    ws.on('error', (err) => reject(err));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`unexpected HTTP ${res.statusCode}`)));
    t.after(() => ws.terminate());
    ws.once('open', () => resolve({
      ws,
      messages,
      closed: (timeoutMs = 15_000) => within(closed, timeoutMs, 'the ws close'),
      waitFor: (pred, timeoutMs = 15_000) => {
        const found = messages.find(pred);
        if (found !== undefined) return Promise.resolve(found);
        return new Promise((res, rej) => {
          const w = {
            pred,
            done: (m: any) => { clearTimeout(timer); res(m); },
          };
          const timer = setTimeout(() => {
            waiters.delete(w);
            const counts = new Map<string, number>();
            for (const m of messages) counts.set(m.type, (counts.get(m.type) ?? 0) + 1);
            rej(new Error(`no matching ws message within ${timeoutMs} ms; got ${[...counts].map(([k, n]) => `${k} ×${n}`).join(', ') || 'nothing'}`));
          }, timeoutMs);
          waiters.add(w);
        });
      },
    }));
  });

export type RefusedUpgrade = { status: number; headers: Record<string, string | string[] | undefined>; body: any; text: string };

/** Attempts the upgrade and returns the HTTP response that refused it (rejects if it was accepted). */
export const refusedUpgrade = (url: string, protocols: string[]): Promise<RefusedUpgrade> =>
  new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, { handshakeTimeout: HANDSHAKE_TIMEOUT_MS });
    ws.on('error', (err) => reject(err));
    ws.once('open', () => {
      ws.terminate();
      reject(new Error('the upgrade was accepted'));
    });
    ws.once('unexpected-response', (req, res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => { text += chunk; });
      res.on('end', () => {
        req.destroy();
        let body: any = text;
        try { body = JSON.parse(text); } catch { /* not JSON */ }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text });
      });
    });
  });
