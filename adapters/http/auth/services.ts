/**
 * The sign-in machinery one HTTP app shares between its middleware and routes: the token
 * service, the lockout, pending MFA challenges, TOTP. Built once by createHttpApp (or by
 * adapters/main.ts, which also hands it to the ws hub for its token check). The secrets come
 * from the secrets store and are created on first start (DESIGN §4: never in the log).
 */
import { randomBytes } from 'node:crypto';
import type { HttpDeps } from '../deps.ts';
import { createTokenService, type TokenService } from './jwt.ts';
import { apiTokenKeyOf, createApiTokenService, type ApiTokenService } from './api-tokens.ts';
import { createApiTokenUsage } from '../../sqlite/api-token-usage.ts';
import { createLoginFailureTable } from '../../sqlite/login-failures.ts';
import { createLockout, lockoutPolicyOf, type Lockout } from './lockout.ts';
import { createMfaChallenges, type MfaChallenges } from './mfa-challenges.ts';
import { createTotp, type Totp } from './totp.ts';
import { recoveryKeyOf } from './recovery-codes.ts';

export const JWT_SECRET_NAME = 'jwt.key';
export const TOTP_KEY_NAME = 'totp.key';

export type AuthServices = {
  tokens: TokenService;
  /** API tokens (issue 17): minted, checked and their last use recorded. */
  apiTokens: ApiTokenService;
  lockout: Lockout;
  challenges: MfaChallenges;
  totp: Totp;
  /** The key of the recovery codes' keyed hashes (secrets/recovery-codes.key). */
  recoveryKey: Buffer;
  /**
   * A bcrypt hash (configured cost) of a random password. A login for an unknown username is
   * verified against it, so it takes as long as one for a known username (DESIGN §9).
   */
  dummyHash(): Promise<string>;
};

export type AuthServicesDeps = Pick<HttpDeps, 'secrets' | 'clock' | 'config' | 'db' | 'adminHasher'>;

export const createAuthServices = (deps: AuthServicesDeps): AuthServices => {
  const { secrets, clock, config, db, adminHasher } = deps;
  const jwtSecret = secrets.getOrCreate(JWT_SECRET_NAME, () => randomBytes(32));
  const totpKey = secrets.getOrCreate(TOTP_KEY_NAME, () => randomBytes(32));
  if (totpKey.length !== 32) throw new Error(`${secrets.path(TOTP_KEY_NAME)} must hold exactly 32 bytes (an AES-256 key)`);
  // Started now, so the first unknown-username login doesn't pay for creating it.
  const dummy = adminHasher.hash(randomBytes(16).toString('base64url'));
  dummy.catch(() => { /* surfaces to whoever awaits dummyHash() */ });
  return {
    tokens: createTokenService({ secret: jwtSecret, ttlS: config.auth.jwt_ttl_s, clock }),
    apiTokens: createApiTokenService({ key: apiTokenKeyOf(secrets), clock, usage: createApiTokenUsage({ db }) }),
    lockout: createLockout({ clock, table: createLoginFailureTable({ db }), policy: lockoutPolicyOf(config) }),
    challenges: createMfaChallenges({ clock }),
    totp: createTotp({ db, clock, key: totpKey }),
    recoveryKey: recoveryKeyOf(secrets),
    dummyHash: () => dummy,
  };
};
