/**
 * MCM's own HTTPS certificate (http.tls): readable, currently valid, not about to expire, and
 * matching its key. Without TLS, only a non-loopback listener is worth a warning: admin
 * passwords and tokens would cross the network in clear unless a TLS proxy is in front.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Config } from '../config/config.ts';
import { fail, pass, skip, warn, type CheckResult } from './check-result.ts';

/** Renew before this. */
export const EXPIRY_WARNING_DAYS = 30;
const DAY_MS = 24 * 60 * 60 * 1000;
const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export const checkHttps = (config: Config, now: Date = new Date()): CheckResult => {
  const { cert, key } = config.http.tls;
  if (!cert || !key) {
    if (LOOPBACK.has(config.http.host)) return skip('https', `plain HTTP on ${config.http.host} (loopback): fine behind a TLS reverse proxy`);
    return warn('https', `plain HTTP on ${config.http.host}:${config.http.port}: passwords and tokens cross the network in clear`,
      'set http.tls.cert and http.tls.key, or bind http.host to 127.0.0.1 behind a TLS reverse proxy (docs/operations.md)');
  }
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(readFileSync(cert));
  } catch (e) {
    return fail('https', `cannot read the certificate ${cert}: ${(e as Error).message}`, 'http.tls.cert must be a PEM certificate (chain) readable by MCM');
  }
  try {
    if (!x509.checkPrivateKey(createPrivateKey(readFileSync(key)))) {
      return fail('https', `${key} is not the private key of ${cert}`, 'give the key the certificate was issued for');
    }
  } catch (e) {
    return fail('https', `cannot read the private key ${key}: ${(e as Error).message}`, 'http.tls.key must be a PEM private key readable by MCM');
  }
  const from = new Date(x509.validFrom);
  const to = new Date(x509.validTo);
  const subject = x509.subject.replace(/\n/g, ', ');
  if (now < from) return fail('https', `${cert} (${subject}) is not valid before ${from.toISOString()}`, 'check the clock, or install a certificate valid now');
  if (now > to) return fail('https', `${cert} (${subject}) expired on ${to.toISOString()}`, 'renew the certificate and restart MCM');
  const days = Math.floor((to.getTime() - now.getTime()) / DAY_MS);
  if (days < EXPIRY_WARNING_DAYS) return warn('https', `${cert} (${subject}) expires in ${days} day${days === 1 ? '' : 's'} (${to.toISOString()})`, 'renew the certificate and restart MCM');
  return pass('https', `${cert} (${subject}) valid until ${to.toISOString()} (${days} days)`);
};
