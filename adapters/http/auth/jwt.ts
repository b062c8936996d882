/**
 * Session tokens: JWT HS256 (DESIGN §9) signed with a secret generated on first start and kept in
 * the secrets store (`jwt.key`, 0600), never in the log. A token carries the user's tokenVersion
 * (`tv`); authenticate.ts compares it with the current state on every request, so a password,
 * role, disabled or MFA change revokes older tokens at once. Times come from the Clock port.
 */
import { createSecretKey, randomUUID } from 'node:crypto';
import type * as Jwt from 'jsonwebtoken';
import { lazyModule } from '../../modules/lazy-module.ts';
import type { Clock } from '../../../core/ports.ts';

/** Loaded with the first sign-in or authenticated request, not with the server (issue 14: with semver, 70 module files). */
const jsonwebtoken = lazyModule<typeof Jwt>('jsonwebtoken');

export const JWT_ISSUER = 'mcm';
export const JWT_AUDIENCE = 'mcm-api';

export type TokenClaims = { sub: string; tv: number; iat: number; exp: number; jti: string };

export type IssuedToken = { token: string; expires_at: string };

export type TokenCheck =
  | { ok: true; claims: TokenClaims }
  | { ok: false; reason: 'expired' | 'invalid'; message: string };

/** Verified tokens remembered at most (one per signed-in session is typical). */
const VERIFIED_CACHE_MAX = 1000;

export type TokenService = {
  issue(user: Readonly<{ username: string; tokenVersion: number }>): IssuedToken;
  /** Signature, algorithm (HS256 only: `alg: none` and RS/HS confusion are refused), issuer, audience, expiry. */
  check(token: string): TokenCheck;
};

const isClaims = (p: unknown): p is TokenClaims => {
  const c = p as Partial<TokenClaims> | null;
  return typeof c === 'object' && c !== null && typeof c.sub === 'string' && Number.isSafeInteger(c.tv)
    && typeof c.iat === 'number' && typeof c.exp === 'number' && typeof c.jti === 'string';
};

export const createTokenService = (deps: Readonly<{ secret: Buffer; ttlS: number; clock: Clock }>): TokenService => {
  const { secret, ttlS, clock } = deps;
  if (secret.length < 32) throw new Error('the JWT secret must be at least 32 bytes (HS256, RFC 7518 §3.2)');
  // A KeyObject built once: given a Buffer, jsonwebtoken first tries to parse it as a public key on
  // every verify, which cost ~20% of a request's CPU in bench/http.bench.ts.
  const key = createSecretKey(secret);
  if (!Number.isInteger(ttlS) || ttlS < 1) throw new Error(`auth.jwt_ttl_s must be a positive integer (got ${ttlS})`);
  const nowS = (): number => Math.floor(Date.parse(clock.now()) / 1000);
  // Bounded (insertion order as LRU): HMAC verification was the largest per-request cost of an
  // authenticated read in bench/http.bench.ts.
  const verified = new Map<string, TokenClaims>();
  const remember = (token: string, claims: TokenClaims): void => {
    if (verified.size >= VERIFIED_CACHE_MAX) {
      const oldest = verified.keys().next();
      if (!oldest.done) verified.delete(oldest.value);
    }
    verified.set(token, claims);
  };
  return {
    issue: ({ username, tokenVersion }) => {
      const iat = nowS();
      const exp = iat + ttlS;
      const payload = { sub: username, tv: tokenVersion, iat, exp, jti: randomUUID() };
      const token = jsonwebtoken().sign(payload, key, { algorithm: 'HS256', issuer: JWT_ISSUER, audience: JWT_AUDIENCE });
      return { token, expires_at: new Date(exp * 1000).toISOString() };
    },
    check: (token) => {
      // A token whose signature and claims were verified once stays cryptographically valid: only
      // expiry can change, and that is checked against the clock on every use. Revocation
      // (tokenVersion) is checked by the caller against the current state on every request.
      const cached = verified.get(token);
      if (cached) {
        if (cached.exp > nowS()) return { ok: true, claims: cached };
        verified.delete(token);
        return { ok: false, reason: 'expired', message: 'token has expired' };
      }
      try {
        const payload = jsonwebtoken().verify(token, key, {
          algorithms: ['HS256'],
          issuer: JWT_ISSUER,
          audience: JWT_AUDIENCE,
          clockTimestamp: nowS(),
        });
        if (!isClaims(payload)) return { ok: false, reason: 'invalid', message: 'token claims are malformed' };
        remember(token, payload);
        return { ok: true, claims: payload };
      } catch (err) {
        const name = (err as Error).name;
        if (name === 'TokenExpiredError') return { ok: false, reason: 'expired', message: 'token has expired' };
        return { ok: false, reason: 'invalid', message: `token is invalid: ${(err as Error).message}` };
      }
    },
  };
};
