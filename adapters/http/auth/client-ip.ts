/**
 * The client's address. X-Forwarded-For is believed only when the TCP peer is one of
 * config.http.trust_proxies (exact IPs); then the chain is walked from the right, skipping
 * trusted proxies, and the first untrusted hop is the client (the entries left of it are
 * whatever the client chose to send). Lockout and security events key on this value.
 */
import { isIP } from 'node:net';
import type Koa from 'koa';

/** `::ffff:192.0.2.1` (an IPv4 peer on a dual-stack socket) → `192.0.2.1`. */
export const normalizeIp = (ip: string): string => {
  const trimmed = ip.trim();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(trimmed);
  return mapped?.[1] ?? trimmed.toLowerCase();
};

export const resolveClientIp = (peer: string | undefined, forwardedFor: string | undefined, trustProxies: readonly string[]): string => {
  const trusted = new Set(trustProxies.map(normalizeIp));
  let client = normalizeIp(peer ?? '');
  if (!trusted.has(client) || !forwardedFor) return client;
  const hops = forwardedFor.split(',').map(normalizeIp);
  for (let i = hops.length - 1; i >= 0; i -= 1) {
    const hop = hops[i] ?? '';
    if (isIP(hop) === 0) break; // garbage: stop at the last hop a trusted proxy vouched for
    client = hop;
    if (!trusted.has(hop)) break;
  }
  return client;
};

export const clientIp = (trustProxies: readonly string[]): Koa.Middleware => async (ctx, next) => {
  ctx.state.clientIp = resolveClientIp(ctx.req.socket.remoteAddress, ctx.get('X-Forwarded-For') || undefined, trustProxies);
  await next();
};
