/**
 * The webhook signature (issue 5): `X-MCM-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>` over
 * `"<t>.<body>"`, keyed with the webhook's secret exactly as shown when it was created or rotated
 * (its UTF-8 bytes). Signing the timestamp with the body lets a receiver refuse replays older
 * than its tolerance; several `v1=` values may appear and any one matching is enough.
 *
 * Receiver recipe: read the raw body (before JSON parsing), split the header on `,` into `k=v`
 * pairs, recompute `hex(hmac_sha256(secret, t + "." + body))`, compare in constant time with
 * each `v1`, and check that `|now - t|` is within a few minutes.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'X-MCM-Signature';

export const signatureOf = (secret: string, t: number, body: string): string =>
  createHmac('sha256', secret).update(`${t}.${body}`, 'utf8').digest('hex');

/** The header value for `body` signed at `t` (unix seconds). */
export const signatureHeader = (secret: string, t: number, body: string): string => `t=${t},v1=${signatureOf(secret, t, body)}`;

/**
 * True when `header` carries a `v1` HMAC of `"<t>.<body>"` under `secret` and `t` is within
 * `toleranceS` seconds of `nowS` (default: the system clock).
 */
export const verifySignature = (
  secret: string,
  header: string | null | undefined,
  body: string,
  toleranceS: number,
  nowS: number = Math.floor(Date.now() / 1000),
): boolean => {
  if (typeof header !== 'string' || header.length > 4096) return false;
  let t: number | null = null;
  const v1: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const k = part.slice(0, eq).trim();
    const v = part.slice(eq + 1).trim();
    if (k === 't' && /^\d{1,12}$/.test(v)) t = Number(v);
    else if (k === 'v1' && /^[0-9a-f]{64}$/.test(v)) v1.push(v);
  }
  if (t === null || v1.length === 0 || Math.abs(nowS - t) > toleranceS) return false;
  const expected = Buffer.from(signatureOf(secret, t, body), 'hex');
  return v1.some((v) => timingSafeEqual(Buffer.from(v, 'hex'), expected));
};
