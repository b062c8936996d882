/**
 * Sign-in, the caller's own account and MFA (DESIGN §8-9). Every change here goes through
 * handleCommand like any other write; a change that bumps the caller's tokenVersion (password,
 * MFA on/off) answers with a fresh token, since the one used for the request is now revoked.
 */
import type Router from '@koa/router';
import type { Context } from 'koa';
import { DomainError, ERROR_CODES } from '../../../core/errors.ts';
import { handleCommand } from '../../../core/handle-command.ts';
import { own } from '../../../core/evolve/records.ts';
import type { AdminUser } from '../../../core/state.ts';
import { countedAttempt, type AttemptWho } from '../auth/attempts.ts';
import { actorOf, signedInAdmin } from '../auth/authenticate.ts';
import { confirmIdentity } from '../auth/confirm-identity.ts';
import { adminUserOf, mfaLogin, passwordLogin, signIn, type LoginDeps } from '../auth/login.ts';
import { assertAdminPassword } from '../auth/password-policy.ts';
import { createRecoveryCodes } from '../auth/recovery-codes.ts';
import { checkSecondFactor } from '../auth/second-factor.ts';
import { createAuthServices } from '../auth/services.ts';
import type { HttpDeps } from '../deps.ts';
import { setEtag } from '../etag.ts';
import { HTTP_ERROR_CODES, HttpError } from '../errors.ts';
import { bodyOf, validateBody } from '../validate.ts';
import { mountRoutes, type RouteSpec } from './route-spec.ts';

export const routes: readonly RouteSpec[] = [
  { method: 'POST', path: '/auth/login', minRole: 'none' },
  { method: 'POST', path: '/auth/login/mfa', minRole: 'none' },
  { method: 'GET', path: '/auth/me', minRole: 'authenticated' },
  // A person's own MFA and password: never through an API token (issue 17).
  { method: 'POST', path: '/auth/mfa/setup', minRole: 'authenticated', tokens: 'never' },
  { method: 'POST', path: '/auth/mfa/verify', minRole: 'authenticated', tokens: 'never' },
  { method: 'DELETE', path: '/auth/mfa', minRole: 'authenticated', tokens: 'never' },
  { method: 'POST', path: '/auth/password', minRole: 'authenticated', tokens: 'never' },
];

type LoginBody = { username: string; password: string };
type LoginMfaBody = { mfa_challenge: string; code: string };
type MfaSetupBody = { password: string; code?: string };
type MfaVerifyBody = { code: string };
type MfaDisableBody = { password: string; code: string };
type PasswordChangeBody = { current_password: string; new_password: string };

const whoIs = (ctx: Context, username: string): AttemptWho => ({
  username,
  ip: String(ctx.state.clientIp ?? ctx.ip),
  requestId: String(ctx.state.requestId ?? ''),
});

/** The caller's current record: the token was checked against it a moment ago. */
const me = (deps: LoginDeps, ctx: Context): AdminUser => {
  const { username } = signedInAdmin(ctx);
  const user = adminUserOf(deps.store.state(), username);
  if (!user) throw new HttpError(401, HTTP_ERROR_CODES.UNAUTHENTICATED, 'the signed-in admin user no longer exists');
  return user;
};

export const meView = (user: AdminUser) => ({
  username: user.username,
  role: user.role,
  mfa_enabled: user.mfa.enabled,
  /** A setup was started but not verified yet (or a re-setup replaced the secret). */
  mfa_pending: user.mfa.pending !== null,
  recovery_codes_left: user.mfa.recoveryCodeHashes.filter((h) => h !== null).length,
  created_at: user.createdAt,
  updated_at: user.updatedAt,
  /** False for a user single sign-on created: no MCM password (and so no MCM second factor) to manage. */
  local_password: user.passwordHash !== '',
  sso: user.sso !== undefined,
});

/**
 * A user single sign-on created has no MCM password: changing one, or setting up the second
 * factor (which asks for it), is the provider's business. Refused before any password check, so
 * the attempt counts towards no lockout.
 */
const refuseWithoutLocalPassword = (user: AdminUser): void => {
  if (user.passwordHash !== '') return;
  throw new HttpError(409, HTTP_ERROR_CODES.NO_LOCAL_PASSWORD,
    `admin user "${user.username}" signs in with single sign-on and has no MCM password: change the password and the second factor at the provider`);
};

/** auth.oidc.password_login false: people sign in through the OpenID Provider only (issue 17). */
const refuseIfPasswordLoginOff = (deps: LoginDeps): void => {
  const oidc = deps.config.auth.oidc;
  if (oidc !== null && !oidc.password_login) {
    throw new HttpError(403, HTTP_ERROR_CODES.PASSWORD_LOGIN_DISABLED, `sign-in with a password is turned off here: use "Sign in with ${oidc.display_name}"`);
  }
};

export const registerAuthRoutes = (router: Router, httpDeps: HttpDeps): void => {
  const deps: LoginDeps = { ...httpDeps, auth: httpDeps.auth ?? createAuthServices(httpDeps) };

  const afterChange = (ctx: Context, username: string, seq: number, extra: Record<string, unknown>): void => {
    const user = adminUserOf(deps.store.state(), username);
    if (!user) throw new HttpError(401, HTTP_ERROR_CODES.UNAUTHENTICATED, 'the signed-in admin user no longer exists');
    setEtag(ctx, seq);
    ctx.status = 200;
    ctx.body = { ...extra, ...signIn(deps, user) };
  };

  mountRoutes(router, routes, {
    'POST /auth/login': [validateBody('LoginRequest'), async (ctx) => {
      refuseIfPasswordLoginOff(deps);
      const { username, password } = bodyOf<LoginBody>(ctx);
      ctx.body = await passwordLogin(deps, whoIs(ctx, username), password);
    }],

    'POST /auth/login/mfa': [validateBody('LoginMfaRequest'), async (ctx) => {
      refuseIfPasswordLoginOff(deps);
      const { mfa_challenge, code } = bodyOf<LoginMfaBody>(ctx);
      // The username comes from the challenge, not from the client.
      const { ip, requestId } = whoIs(ctx, '');
      ctx.body = await mfaLogin(deps, ip, requestId, mfa_challenge, code);
    }],

    'GET /auth/me': (ctx) => {
      const { token, username, role } = signedInAdmin(ctx);
      if (token !== undefined) {
        // An API token is no person: who it is, what it may do now, and whose it is.
        const t = own(deps.store.state().apiTokens ?? {}, token);
        ctx.body = { username, role, mfa_enabled: false, token: { name: token, owner: t?.owner ?? null, expires_at: t?.expiresAt ?? null } };
        return;
      }
      ctx.body = meView(me(deps, ctx));
    },

    'POST /auth/mfa/setup': [validateBody('MfaSetupRequest'), async (ctx) => {
      const actor = actorOf(ctx);
      const body = bodyOf<MfaSetupBody>(ctx);
      const user = me(deps, ctx);
      refuseWithoutLocalPassword(user);
      if (user.mfa.enabled && body.code === undefined) {
        throw new DomainError(ERROR_CODES.VALIDATION, 'MFA is enabled: setting it up again needs a current code as well as the password', [
          { field: 'code', rule: 'required when MFA is enabled' },
        ]);
      }
      await confirmIdentity(deps, whoIs(ctx, user.username), actor, {
        password: body.password,
        ...(user.mfa.enabled && body.code !== undefined ? { code: body.code, allowRecovery: true } : {}),
      });
      const secret = deps.auth.totp.newSecret();
      const { codes, hashes } = createRecoveryCodes(deps.auth.recoveryKey);
      const result = handleCommand(deps, {
        type: 'StartMfaEnrolment',
        data: { username: user.username, secretCiphertext: deps.auth.totp.seal(secret), recoveryCodeHashes: hashes },
      }, { actor });
      setEtag(ctx, result.seq);
      ctx.body = {
        otpauth_url: deps.auth.totp.otpauthUrl(deps.config.auth.mfa_issuer, user.username, secret),
        secret,
        recovery_codes: codes,
      };
    }],

    'POST /auth/mfa/verify': [validateBody('MfaVerifyRequest'), async (ctx) => {
      const actor = actorOf(ctx);
      const { code } = bodyOf<MfaVerifyBody>(ctx);
      const user = me(deps, ctx);
      const pending = user.mfa.pending;
      if (pending === null) {
        throw new DomainError(ERROR_CODES.MFA_STATE, 'there is no MFA setup to verify: call POST /auth/mfa/setup first', [{ username: user.username }]);
      }
      // The code must come from the NEW secret: that is what proves the authenticator has it.
      const staged = { ...user, mfa: { ...user.mfa, secretCiphertext: pending.secretCiphertext } };
      await countedAttempt(deps, whoIs(ctx, user.username), async () => {
        const checked = await checkSecondFactor(deps, staged, code, { allowRecovery: false, actor });
        if (checked.ok) return null;
        return { category: 'auth.mfa_failed', message: `MFA verification failed: ${checked.reason === 'replayed' ? 'code already used' : 'wrong code'}`, details: { reason: checked.reason } };
      }, () => new HttpError(403, HTTP_ERROR_CODES.MFA_CODE_INVALID, "the code is wrong or was already used (check the authenticator app's clock)"));
      // Enables the enrolment this code was checked against, not whatever is pending at append time.
      const result = handleCommand(deps, { type: 'EnableMfa', data: { username: user.username, secretCiphertext: pending.secretCiphertext } }, { actor });
      afterChange(ctx, user.username, result.seq, { mfa_enabled: true });
    }],

    'DELETE /auth/mfa': [validateBody('MfaDisableRequest'), async (ctx) => {
      const actor = actorOf(ctx);
      const { password, code } = bodyOf<MfaDisableBody>(ctx);
      const user = me(deps, ctx);
      if (!user.mfa.enabled) {
        throw new DomainError(ERROR_CODES.MFA_STATE, `MFA is not enabled for admin user "${user.username}"`, [{ username: user.username }]);
      }
      await confirmIdentity(deps, whoIs(ctx, user.username), actor, { password, code, allowRecovery: true });
      const result = handleCommand(deps, { type: 'DisableMfa', data: { username: user.username } }, { actor });
      afterChange(ctx, user.username, result.seq, { mfa_enabled: false });
    }],

    'POST /auth/password': [validateBody('PasswordChangeRequest'), async (ctx) => {
      const actor = actorOf(ctx);
      const { current_password, new_password } = bodyOf<PasswordChangeBody>(ctx);
      const user = me(deps, ctx);
      refuseWithoutLocalPassword(user);
      assertAdminPassword(new_password, 'new_password');
      await confirmIdentity(deps, whoIs(ctx, user.username), actor, { password: current_password });
      const passwordHash = await deps.adminHasher.hash(new_password);
      const result = handleCommand(deps, { type: 'UpdateAdminUser', data: { username: user.username, passwordHash } }, { actor });
      afterChange(ctx, user.username, result.seq, {});
    }],
  });
};
