/**
 * A webhook receiver for tests: an HTTP server on 127.0.0.1 that records every request (raw body
 * and headers) and answers a settable status. It can be stopped and started again on the same
 * port, to play a receiver that is down and comes back. Closed in t.after.
 *
 *   const r = await startReceiver(t);            // up
 *   const r = await startReceiver(t, { down: true }); // a port is reserved, nothing listens yet
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';

export type Received = { method: string; path: string; headers: IncomingHttpHeaders; body: string };

export type Receiver = {
  port: number;
  url(path?: string): string;
  received: Received[];
  /** Status of the next answers (default 200); `location` adds a Location header (redirect tests). */
  respond(status: number, location?: string): void;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Resolves once `n` requests arrived; rejects after `timeoutMs`. */
  waitFor(n: number, timeoutMs?: number): Promise<Received[]>;
};

export const startReceiver = async (t: TestContext, opts: { down?: boolean } = {}): Promise<Receiver> => {
  const received: Received[] = [];
  let status = 200;
  let location: string | undefined;
  let server: Server | null = null;
  let port = 0;

  const start = (): Promise<void> => new Promise((resolve, reject) => {
    const s = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(status, location ? { Location: location } : {});
        res.end('ok');
      });
    });
    s.once('error', reject);
    s.listen(port, '127.0.0.1', () => {
      port = (s.address() as AddressInfo).port;
      server = s;
      resolve();
    });
  });

  const stop = async (): Promise<void> => {
    const s = server;
    server = null;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  };

  await start();
  if (opts.down) await stop();
  t.after(stop);

  return {
    get port() { return port; },
    url: (path = '/hook') => `http://127.0.0.1:${port}${path}`,
    received,
    respond: (s, loc) => { status = s; location = loc; },
    start,
    stop,
    waitFor: async (n, timeoutMs = 20_000) => {
      const until = Date.now() + timeoutMs;
      while (received.length < n) {
        if (Date.now() > until) throw new Error(`receiver got ${received.length} of ${n} requests within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 20));
      }
      return received;
    },
  } as Receiver;
};

/** Polls `check` until it returns a value other than undefined/false; generous timeout (seconds). */
export const eventually = async <T>(what: string, check: () => T | undefined | false, timeoutMs = 20_000): Promise<T> => {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};
