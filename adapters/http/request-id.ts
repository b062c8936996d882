/**
 * X-Request-ID in and out: a caller's id is kept when it is sane (at most 128 of
 * [A-Za-z0-9._-]: safe in logs and headers), otherwise a fresh UUID is used. It ends up in the
 * access log, the actor of any event the request appends, and the response header.
 */
import { randomUUID } from 'node:crypto';
import type Koa from 'koa';

export const REQUEST_ID_HEADER = 'X-Request-ID';
const SANE_REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

export const isSaneRequestId = (value: unknown): value is string => typeof value === 'string' && SANE_REQUEST_ID.test(value);

export const requestId = (): Koa.Middleware => async (ctx, next) => {
  const given = ctx.get(REQUEST_ID_HEADER);
  const id = isSaneRequestId(given) ? given : randomUUID();
  ctx.state.requestId = id;
  ctx.set(REQUEST_ID_HEADER, id);
  await next();
};
