/**
 * The second factor: a 6-digit TOTP code, or (where allowed) one of the user's recovery codes.
 * A matched recovery code is spent through the UseRecoveryCode command (the one write path);
 * the core refuses a code already used, so two requests racing with one code can't both pass.
 */
import { DomainError, ERROR_CODES } from '../../../core/errors.ts';
import { handleCommand } from '../../../core/handle-command.ts';
import type { Actor } from '../../../core/events.ts';
import type { AdminUser } from '../../../core/state.ts';
import type { HttpDeps } from '../deps.ts';
import { matchRecoveryCode } from './recovery-codes.ts';
import type { AuthServices } from './services.ts';
import { TOTP_CODE } from './totp.ts';

export type SecondFactorResult =
  | { ok: true; via: 'totp' | 'recovery' }
  | { ok: false; reason: 'invalid' | 'replayed' | 'no-secret' };

export type SecondFactorDeps = Pick<HttpDeps, 'store' | 'clock' | 'adminHasher'> & { auth: AuthServices };

export const checkSecondFactor = async (
  deps: SecondFactorDeps,
  user: AdminUser,
  code: string,
  options: Readonly<{ allowRecovery: boolean; actor: Actor }>,
): Promise<SecondFactorResult> => {
  if (TOTP_CODE.test(code)) {
    if (user.mfa.secretCiphertext === null) return { ok: false, reason: 'no-secret' };
    const secret = deps.auth.totp.open(user.mfa.secretCiphertext);
    const checked = await deps.auth.totp.verifyCode(user.username, secret, code);
    return checked.ok ? { ok: true, via: 'totp' } : { ok: false, reason: checked.reason };
  }
  if (!options.allowRecovery || !user.mfa.enabled) return { ok: false, reason: 'invalid' };
  const matched = await matchRecoveryCode({ hasher: deps.adminHasher, key: deps.auth.recoveryKey }, user.mfa.recoveryCodeHashes, code);
  if (matched === null) return { ok: false, reason: 'invalid' };
  try {
    // Carries the hash it matched: decide spends it only if that hash is still there, unused.
    handleCommand(deps, { type: 'UseRecoveryCode', data: { username: user.username, ...matched } }, { actor: options.actor });
  } catch (err) {
    // Spent by a concurrent request between our check and this append: not a valid code now.
    if (err instanceof DomainError && err.code === ERROR_CODES.MFA_STATE) return { ok: false, reason: 'replayed' };
    throw err;
  }
  return { ok: true, via: 'recovery' };
};
