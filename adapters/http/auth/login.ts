/**
 * Sign-in (DESIGN §8-9). Step one checks the password: an unknown username is checked against a
 * dummy hash of the same cost, and a disabled user fails exactly like a wrong password, so
 * neither answer nor timing tells which usernames exist. A user with MFA then gets a single-use
 * challenge (5 minutes, 5 attempts) to answer with a TOTP or recovery code at step two.
 * Every failure is a security event and counts toward the lockout (attempts.ts).
 */
import type { Actor } from '../../../core/events.ts';
import type { AdminRole, AdminUser, BrokerConfig } from '../../../core/state.ts';
import type { HttpDeps } from '../deps.ts';
import { HTTP_ERROR_CODES, HttpError } from '../errors.ts';
import { countedAttempt, type AttemptWho } from './attempts.ts';
import type { IssuedToken } from './jwt.ts';
import { checkSecondFactor } from './second-factor.ts';
import type { AuthServices } from './services.ts';

export type LoginDeps = Pick<HttpDeps, 'store' | 'clock' | 'config' | 'adminHasher' | 'securityLog'> & { auth: AuthServices };

export type SignedIn = IssuedToken & { user: { username: string; role: AdminRole; mfa_enabled: boolean } };
export type LoginResult = SignedIn | { mfa_required: true; mfa_challenge: string };

export const adminUserOf = (state: BrokerConfig, username: string): AdminUser | undefined =>
  Object.hasOwn(state.adminUsers, username) ? state.adminUsers[username] : undefined;

const loginFailed = (): HttpError => new HttpError(401, HTTP_ERROR_CODES.LOGIN_FAILED, 'invalid username or password');

const challengeInvalid = (): HttpError =>
  new HttpError(401, HTTP_ERROR_CODES.MFA_CHALLENGE_INVALID, 'the MFA challenge is unknown, expired or used up: sign in again with your password');

export const signIn = (deps: LoginDeps, user: AdminUser): SignedIn => ({
  ...deps.auth.tokens.issue(user),
  user: { username: user.username, role: user.role, mfa_enabled: user.mfa.enabled },
});

const recordSignIn = (deps: LoginDeps, who: AttemptWho, factors: string): void => {
  deps.securityLog.record({
    category: 'auth.login_succeeded', severity: 'info', message: `signed in (${factors})`,
    details: { factors, request_id: who.requestId }, actor: who.username, ip: who.ip,
  });
};

export const actorFor = (who: AttemptWho): Actor => ({
  kind: 'admin', id: who.username, ip: who.ip, ...(who.requestId ? { request_id: who.requestId } : {}),
});

export const passwordLogin = async (deps: LoginDeps, who: AttemptWho, password: string): Promise<LoginResult> => {
  let user: AdminUser | undefined;
  await countedAttempt(deps, who, async () => {
    const known = adminUserOf(deps.store.state(), who.username);
    // A user without a local password (made at single sign-on: '') is checked against the dummy
    // too, so its answer takes as long as anyone's and can never match.
    const hash = known?.passwordHash || await deps.auth.dummyHash();
    const good = await deps.adminHasher.verify(password, hash);
    // Read again after the await: the user may have changed meanwhile.
    user = adminUserOf(deps.store.state(), who.username);
    if (!known || !user) return { category: 'auth.login_failed', message: 'sign-in failed: unknown username', details: { reason: 'unknown_user' } };
    if (!good || user.passwordHash !== hash) return { category: 'auth.login_failed', message: 'sign-in failed: wrong password', details: { reason: 'wrong_password' } };
    if (user.disabled) return { category: 'auth.login_failed', message: 'sign-in failed: the admin user is disabled', details: { reason: 'disabled' } };
    return null;
  }, loginFailed);
  if (!user) throw loginFailed(); // unreachable: countedAttempt returned, so the check passed
  if (user.mfa.enabled) {
    const challenge = deps.auth.challenges.create(user.username);
    return { mfa_required: true, mfa_challenge: challenge.id };
  }
  deps.auth.lockout.succeeded(who);
  recordSignIn(deps, who, 'password');
  return signIn(deps, user);
};

export const mfaLogin = async (deps: LoginDeps, ip: string, requestId: string | undefined, challengeId: string, code: string): Promise<SignedIn> => {
  const challenge = deps.auth.challenges.attempt(challengeId);
  if (!challenge) {
    // Guessing a 256-bit challenge is hopeless, but counting these per address keeps a flood of
    // them from filling the security event table.
    await countedAttempt(deps, { username: '', ip, ...(requestId ? { requestId } : {}) }, async () => ({
      category: 'auth.mfa_failed', message: 'MFA sign-in with an unknown, expired or used-up challenge', details: { reason: 'challenge_invalid' },
    }), challengeInvalid);
    throw challengeInvalid(); // not reached: a failed attempt always throws
  }
  const who: AttemptWho = { username: challenge.username, ip, ...(requestId ? { requestId } : {}) };
  await countedAttempt(deps, who, async () => {
    const user = adminUserOf(deps.store.state(), who.username);
    if (!user || user.disabled || !user.mfa.enabled) {
      deps.auth.challenges.consume(challengeId);
      return { category: 'auth.mfa_failed', message: 'MFA sign-in for a user that is gone, disabled or without MFA', details: { reason: 'user_changed' } };
    }
    const result = await checkSecondFactor(deps, user, code, { allowRecovery: true, actor: actorFor(who) });
    if (result.ok) {
      recordSignIn(deps, who, `password + ${result.via === 'totp' ? 'TOTP' : 'recovery code'}`);
      return null;
    }
    return {
      category: 'auth.mfa_failed',
      message: result.reason === 'replayed' ? 'MFA sign-in with a code that was already used' : 'MFA sign-in with a wrong code',
      details: { reason: result.reason, attempts_left: deps.auth.challenges.attemptsLeft(challengeId) },
    };
  }, () => new HttpError(401, HTTP_ERROR_CODES.MFA_CODE_INVALID, 'the MFA code is wrong or was already used', [
    { attempts_left: deps.auth.challenges.attemptsLeft(challengeId) },
  ]));
  deps.auth.challenges.consume(challengeId);
  deps.auth.lockout.succeeded(who);
  const user = adminUserOf(deps.store.state(), who.username);
  if (!user) throw challengeInvalid();
  return signIn(deps, user);
};
