/**
 * Re-authentication of a signed-in admin before sensitive changes of their own account (DESIGN
 * §9): the password, and for MFA changes a current code too. One counted attempt, so a stolen
 * token can't be used to guess the password behind it: failures are security events and lock out
 * like sign-in failures.
 */
import type { Actor } from '../../../core/events.ts';
import type { AdminUser } from '../../../core/state.ts';
import { HTTP_ERROR_CODES, HttpError } from '../errors.ts';
import { countedAttempt, type AttemptWho } from './attempts.ts';
import type { LoginDeps } from './login.ts';
import { adminUserOf } from './login.ts';
import { checkSecondFactor } from './second-factor.ts';

export type IdentityProof = Readonly<{
  password: string;
  /** When given, a TOTP code (or, with allowRecovery, a recovery code) must match too. */
  code?: string;
  allowRecovery?: boolean;
}>;

export const confirmIdentity = async (deps: LoginDeps, who: AttemptWho, actor: Actor, proof: IdentityProof): Promise<AdminUser> => {
  let wrong: 'password' | 'code' = 'password';
  await countedAttempt(deps, who, async () => {
    const user = adminUserOf(deps.store.state(), who.username);
    const good = user ? await deps.adminHasher.verify(proof.password, user.passwordHash) : false;
    if (!good) {
      return { category: 'auth.reauth_failed', message: 're-authentication failed: wrong password', details: { reason: 'wrong_password' } };
    }
    if (proof.code !== undefined && user) {
      wrong = 'code';
      const result = await checkSecondFactor(deps, user, proof.code, { allowRecovery: proof.allowRecovery ?? false, actor });
      if (!result.ok) {
        return { category: 'auth.mfa_failed', message: `re-authentication failed: ${result.reason === 'replayed' ? 'MFA code already used' : 'wrong MFA code'}`, details: { reason: result.reason } };
      }
    }
    return null;
  }, () => wrong === 'password'
    ? new HttpError(403, HTTP_ERROR_CODES.REAUTH_FAILED, 'the password is incorrect')
    : new HttpError(403, HTTP_ERROR_CODES.MFA_CODE_INVALID, 'the MFA code is wrong or was already used'));
  const user = adminUserOf(deps.store.state(), who.username);
  if (!user) throw new HttpError(401, HTTP_ERROR_CODES.UNAUTHENTICATED, 'the signed-in admin user no longer exists');
  return user;
};
