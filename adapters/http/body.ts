/**
 * JSON request bodies only (DESIGN §8-9): a body of another media type is 415, one over
 * config.http.body_limit_bytes is 413 (checked on Content-Length before reading, and while
 * reading for chunked bodies), malformed JSON or invalid UTF-8 is 400. The parsed value lands in
 * `ctx.request.body` (undefined when the request has no body); validateBody checks its shape.
 */
import type { IncomingMessage } from 'node:http';
import type Koa from 'koa';
import { HTTP_ERROR_CODES, HttpError } from './errors.ts';

declare module 'koa' {
  interface Request {
    /** The parsed JSON body (body.ts); undefined when the request had none. */
    body?: unknown;
  }
}

/** RFC 9110 §6.4.1: a request has content when it says so with Transfer-Encoding or a non-zero Content-Length. */
export const hasBody = (req: IncomingMessage): boolean =>
  req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0');

/** `application/json`, `application/<x>+json`; a charset, if given, must be UTF-8 (RFC 8259 §8.1). */
export const isJsonContentType = (header: string | undefined): boolean => {
  if (!header) return false;
  const [mime = '', ...params] = header.split(';').map((p) => p.trim().toLowerCase());
  if (mime !== 'application/json' && !/^application\/[a-z0-9.+-]+\+json$/.test(mime)) return false;
  return params.every((p) => !p.startsWith('charset=') || /^charset="?utf-8"?$/.test(p));
};

const tooLarge = (limit: number): HttpError =>
  new HttpError(413, HTTP_ERROR_CODES.BODY_TOO_LARGE, `request body is larger than ${limit} bytes`, [{ limit_bytes: limit }]);

/**
 * A refused body is read and thrown away up to this many bytes (and this long) before the answer
 * goes out: a client still sending when the server closes gets EPIPE/ECONNRESET instead of the
 * 413 it should read. Past the bound the connection is closed (a client sending more than this
 * to a JSON API is not one to wait for).
 */
export const DRAIN_MAX_BYTES = 64 * 2 ** 20;
export const DRAIN_MAX_MS = 10_000;

const drain = (req: IncomingMessage, alreadyRead: number): Promise<void> => new Promise((resolve) => {
  if (req.readableEnded || req.destroyed) return resolve();
  let seen = alreadyRead;
  const done = (): void => {
    clearTimeout(timer);
    req.off('data', onData);
    req.off('end', done);
    req.off('error', done);
    req.off('close', done);
    resolve();
  };
  const onData = (chunk: Buffer): void => {
    seen += chunk.length;
    if (seen > DRAIN_MAX_BYTES) done();
  };
  const timer = setTimeout(done, DRAIN_MAX_MS);
  timer.unref();
  req.on('data', onData);
  req.once('end', done);
  req.once('error', done);
  req.once('close', done);
  req.resume();
});

class BodyTooLarge extends Error {
  constructor() {
    super('body too large');
  }
}

/**
 * The body, or BodyTooLarge once it passes `limit` — after the rest was drained (see drain). Read
 * with 'data' events, not `for await`: leaving an async iterator early destroys the request, and
 * with it the socket the 413 must go out on.
 */
const readLimited = (req: IncomingMessage, limit: number): Promise<Buffer> => new Promise((resolve, reject) => {
  const chunks: Buffer[] = [];
  let size = 0;
  const cleanup = (): void => {
    req.off('data', onData);
    req.off('end', onEnd);
    req.off('error', onError);
  };
  const onData = (chunk: Buffer): void => {
    size += chunk.length;
    if (size <= limit) {
      chunks.push(chunk);
      return;
    }
    cleanup();
    chunks.length = 0;
    void drain(req, size).then(() => reject(new BodyTooLarge()));
  };
  const onEnd = (): void => { cleanup(); resolve(Buffer.concat(chunks, size)); };
  const onError = (err: Error): void => { cleanup(); reject(err); };
  req.on('data', onData);
  req.once('end', onEnd);
  req.once('error', onError);
});

export type JsonBodyOptions = Readonly<{
  /**
   * Requests whose route reads its own body, with its own limit, after authentication and the
   * role check (`deferredJsonBody`): a large limit is then offered to admins only, and no
   * anonymous client can make the server read megabytes.
   */
  deferred?: (ctx: Koa.Context) => boolean;
}>;

export const jsonBody = (limitBytes: number, opts: JsonBodyOptions = {}): Koa.Middleware => async (ctx, next) => {
  if (opts.deferred?.(ctx)) {
    ctx.state.bodyDeferred = true;
    await next();
    return;
  }
  if (!hasBody(ctx.req)) {
    ctx.request.body = undefined;
    await next();
    return;
  }
  try {
    if (!isJsonContentType(ctx.get('Content-Type'))) {
      throw new HttpError(415, HTTP_ERROR_CODES.UNSUPPORTED_MEDIA_TYPE, 'request bodies must be JSON (Content-Type: application/json)', [
        { content_type: ctx.get('Content-Type') || null },
      ]);
    }
    const declared = Number(ctx.get('Content-Length') || 0);
    if (declared > limitBytes) {
      // Read (and drop) what the client is sending so it can read the answer; a huge one is cut.
      if (declared <= DRAIN_MAX_BYTES) await drain(ctx.req, 0);
      throw tooLarge(limitBytes);
    }
    let raw: Buffer;
    try {
      raw = await readLimited(ctx.req, limitBytes);
    } catch (err) {
      throw err instanceof BodyTooLarge ? tooLarge(limitBytes) : err;
    }
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
    } catch {
      throw new HttpError(400, HTTP_ERROR_CODES.JSON_INVALID, 'request body is not valid UTF-8');
    }
    try {
      ctx.request.body = JSON.parse(text) as unknown;
    } catch (err) {
      throw new HttpError(400, HTTP_ERROR_CODES.JSON_INVALID, `request body is not valid JSON: ${(err as Error).message}`);
    }
  } catch (err) {
    // The rest of a refused body is not read: ask the client to close rather than make Node
    // drain (possibly a lot of) data to keep the connection alive.
    if (err instanceof HttpError && err.status !== 400) ctx.set('Connection', 'close');
    throw err;
  }
  await next();
};

/** The body of a request `jsonBody` deferred (see JsonBodyOptions), read with `limitBytes`. */
export const deferredJsonBody = (limitBytes: number): Koa.Middleware => {
  const read = jsonBody(limitBytes);
  return async (ctx, next) => {
    if (ctx.state.bodyDeferred === true) {
      ctx.state.bodyDeferred = false;
      await read(ctx, next);
      return;
    }
    await next();
  };
};
