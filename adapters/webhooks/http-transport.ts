/**
 * How a delivery is sent: one POST over node:http(s), never following redirects (a 3xx is a
 * failed attempt — following it would let a receiver point MCM at an address the guard never
 * saw), with the connection's DNS lookup going through the SSRF guard (address-guard.ts) so the
 * address connected to is the address checked. The shape is fetch's, so tests (or another
 * transport) can pass `fetch` itself.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { guardedLookup } from './address-guard.ts';

export type WebhookRequestInit = {
  method: 'POST';
  headers: Record<string, string>;
  body: string;
  signal: AbortSignal;
  redirect: 'manual';
};

/** fetch-compatible: the global `fetch` fits. Resolves with the status, rejects on network errors. */
export type WebhookFetch = (url: string, init: WebhookRequestInit) => Promise<{ status: number }>;

/** Bytes of a response body read (and thrown away) before the socket is closed. */
const MAX_RESPONSE_BYTES = 64 * 1024;

export const createHttpTransport = (opts: Readonly<{ allowPrivate: boolean }>): WebhookFetch => {
  const lookup = guardedLookup(opts.allowPrivate);
  return (url, init) =>
    new Promise((resolve, reject) => {
      const target = new URL(url);
      const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
      const req = send(target, {
        method: init.method,
        headers: { ...init.headers, 'Content-Length': String(Buffer.byteLength(init.body)), Connection: 'close' },
        lookup: lookup as never,
        signal: init.signal,
        // A fresh socket per delivery: no pooled connection to an address checked long ago.
        agent: false,
      });
      req.on('error', reject);
      req.on('response', (res: IncomingMessage) => {
        let read = 0;
        res.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (read > MAX_RESPONSE_BYTES) res.destroy();
        });
        res.on('error', () => { /* the status is all that counts; already resolved */ });
        resolve({ status: res.statusCode ?? 0 });
      });
      req.end(init.body);
    });
};
