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

const readLimited = async (req: IncomingMessage, limit: number): Promise<Buffer> => {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > limit) throw tooLarge(limit);
    chunks.push(buf);
  }
  return Buffer.concat(chunks, size);
};

export const jsonBody = (limitBytes: number): Koa.Middleware => async (ctx, next) => {
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
    if (declared > limitBytes) throw tooLarge(limitBytes);
    const raw = await readLimited(ctx.req, limitBytes);
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
