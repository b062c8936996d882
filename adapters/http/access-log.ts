/**
 * One pino JSON line per request, written after the response. It logs the method, the PATH only
 * (a query string may carry a token: never logged), the status, the duration, the client address,
 * the request id and the signed-in admin. Never bodies, never headers (Authorization, cookies).
 */
import type Koa from 'koa';
import type { Logger } from './deps.ts';
import { statusOfError } from './errors.ts';

export const accessLog = (logger: Logger): Koa.Middleware => async (ctx, next) => {
  const started = process.hrtime.bigint();
  let status = 500;
  try {
    await next();
    status = ctx.status;
  } catch (err) {
    // The error mapper sits above this middleware and sets the status after we return.
    status = statusOfError(err);
    throw err;
  } finally {
    const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
    const admin = ctx.state.admin as { username?: string } | undefined;
    logger.info({
      req_id: ctx.state.requestId,
      method: ctx.method,
      path: ctx.path,
      status,
      duration_ms: Math.round(durationMs * 100) / 100,
      ip: ctx.state.clientIp ?? ctx.ip,
      ...(admin?.username ? { admin: admin.username } : {}),
    }, 'request');
  }
};
