/**
 * TOTP (RFC 6238: SHA-1, 6 digits, 30 s — what authenticator apps use) with otplib v13, at the
 * Clock port's time. Replay protection (DESIGN §9): the time step a code matched is recorded in
 * `mfa_used_steps`, and a code for that step or any earlier one is refused for that user, so a
 * code seen over someone's shoulder can't be used again, not even within its 30 s.
 * Secrets are sealed (AES-256-GCM, adapters/secrets/crypto-box.ts) with the `totp.key` secret
 * before they go into an event.
 */
import type { DatabaseSync } from 'node:sqlite';
import type * as Otplib from 'otplib';
import { lazyModule } from '../../modules/lazy-module.ts';
import type { Clock } from '../../../core/ports.ts';
import { open, seal } from '../../secrets/crypto-box.ts';

/** Loaded with the first second-factor check or set-up (issue 14). */
const otplib = lazyModule<typeof Otplib>('otplib');

export const TOTP_PERIOD_S = 30;
/** One step either side: tolerates a phone clock 30 s off (RFC 6238 §5.2). */
export const TOTP_TOLERANCE_S = 30;
export const TOTP_CODE = /^\d{6}$/;
/** Rows older than this many steps can't matter any more (see `verifyCode`). */
const KEEP_STEPS = 10;

export type TotpCheck = { ok: true; step: number } | { ok: false; reason: 'invalid' | 'replayed' };

export type Totp = {
  newSecret(): string;
  otpauthUrl(issuer: string, username: string, secret: string): string;
  seal(secret: string): string;
  open(ciphertext: string): string;
  /** Checks a 6-digit code at the current time and, when good and fresh, records its step. */
  verifyCode(username: string, secret: string, code: string): Promise<TotpCheck>;
  /** The code for `secret` at the clock's time (tests, and nothing else). */
  codeAt(secret: string, epochS?: number): Promise<string>;
};

export const createTotp = (deps: Readonly<{ db: DatabaseSync; clock: Clock; key: Buffer }>): Totp => {
  const { db, clock, key } = deps;
  const epochS = (): number => Math.floor(Date.parse(clock.now()) / 1000);
  const lastStepStmt = db.prepare('SELECT max(step) AS step FROM mfa_used_steps WHERE username = ?');
  const recordStmt = db.prepare('INSERT OR IGNORE INTO mfa_used_steps (username, step) VALUES (?, ?)');
  const pruneStmt = db.prepare('DELETE FROM mfa_used_steps WHERE username = ? AND step < ?');

  return {
    newSecret: () => otplib().generateSecret({ length: 20 }),
    otpauthUrl: (issuer, username, secret) => otplib().generateURI({ issuer, label: username, secret }),
    seal: (secret) => seal(key, secret),
    open: (ciphertext) => open(key, ciphertext),
    verifyCode: async (username, secret, code) => {
      if (!TOTP_CODE.test(code)) return { ok: false, reason: 'invalid' };
      const result = await otplib().verify({ secret, token: code, epoch: epochS(), period: TOTP_PERIOD_S, epochTolerance: TOTP_TOLERANCE_S });
      // The functional API's result type also covers HOTP, which has no timeStep.
      if (!result.valid || !('timeStep' in result)) return { ok: false, reason: 'invalid' };
      const step = result.timeStep;
      // Synchronous from here on (DatabaseSync): two requests with the same code can't both pass.
      const last = (lastStepStmt.get(username) as { step: number | null } | undefined)?.step ?? null;
      if (last !== null && step <= last) return { ok: false, reason: 'replayed' };
      const inserted = recordStmt.run(username, step);
      if (Number(inserted.changes) === 0) return { ok: false, reason: 'replayed' };
      pruneStmt.run(username, step - KEEP_STEPS);
      return { ok: true, step };
    },
    codeAt: (secret, at = epochS()) => otplib().generate({ secret, epoch: at, period: TOTP_PERIOD_S }),
  };
};
