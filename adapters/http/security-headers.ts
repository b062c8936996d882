/**
 * Security headers on every response (DESIGN §9), errors included: the middleware sets them
 * before anything below can throw. The UI is served from the same origin and loads nothing from
 * elsewhere, so `default-src 'self'` is enough; `frame-ancestors 'none'` and X-Frame-Options stop
 * clickjacking (old and new browsers). HSTS only makes sense over TLS (RFC 6797 §7.2: a UA ignores
 * it over plain HTTP, and sending it there would suggest a protection that isn't in place).
 */
import type Koa from 'koa';

export const CONTENT_SECURITY_POLICY = "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'";
export const HSTS = 'max-age=31536000';

export const securityHeaders = (): Koa.Middleware => async (ctx, next) => {
  ctx.set('Content-Security-Policy', CONTENT_SECURITY_POLICY);
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.set('Referrer-Policy', 'no-referrer');
  ctx.set('X-Frame-Options', 'DENY');
  ctx.set('Cross-Origin-Opener-Policy', 'same-origin');
  // API answers are per-user and may hold sensitive data: no shared or browser caching.
  ctx.set('Cache-Control', 'no-store');
  // `encrypted` is set on TLS sockets only (node:tls TLSSocket); app.proxy stays off, so a
  // client can't claim TLS through X-Forwarded-Proto.
  if ((ctx.req.socket as { encrypted?: boolean }).encrypted === true) ctx.set('Strict-Transport-Security', HSTS);
  await next();
};
