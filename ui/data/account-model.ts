/**
 * The account screen's data (DESIGN §8-9): the caller's own password and MFA.
 *
 * Changing the password, enabling MFA (POST /auth/mfa/verify) and disabling it (DELETE
 * /auth/mfa) bump the user's token version, so the token that made the request is revoked the
 * moment the change is recorded; the server answers with a fresh token for the same user
 * (adapters/http/routes/auth.ts `afterChange`). The ws hub re-checks tokens as soon as an admin
 * user's stream changes and closes the socket with 4401, which the shell reads as "session
 * ended" — and that close can reach the browser before the HTTP answer with the new token.
 * `tokenChangingCall` therefore stops the live connection first, swaps the token in, then starts
 * the connection again with the new one; if no token comes back, the session ends with a reason
 * that says what to do. Pure: the session and live client are passed in.
 */
import type { AdminRole } from './roles.ts';
import type { SessionData } from './session.ts';

/** GET /auth/me. */
export type Me = {
  username: string;
  role: AdminRole;
  mfa_enabled: boolean;
  mfa_pending?: boolean;
  recovery_codes_left?: number;
  created_at?: string;
  updated_at?: string;
  /** False for a user single sign-on created: no MCM password or second factor to manage here. */
  local_password?: boolean;
  sso?: boolean;
};

/** POST /auth/mfa/setup: shown once. */
export type MfaSetup = { otpauth_url: string; secret: string; recovery_codes: string[] };

/** A `{token, expires_at, user}` answer (login, or a change that re-issued the token), or null. */
export const freshSession = (body: unknown): SessionData | null => {
  const b = body as Partial<SessionData> | null;
  if (!b || typeof b !== 'object' || typeof b.token !== 'string' || typeof b.expires_at !== 'string') return null;
  const u = b.user;
  if (!u || typeof u.username !== 'string' || typeof u.role !== 'string') return null;
  return { token: b.token, expires_at: b.expires_at, user: { username: u.username, role: u.role, mfa_enabled: u.mfa_enabled === true } };
};

export type TokenSwapDeps = {
  live: { stop(): void; start(): void };
  session: { current(): SessionData | null; set(data: SessionData): void; clear(reason?: string): void };
};

/**
 * Runs a request that revokes the current token. On success the fresh token from the answer
 * becomes the session (or the session ends with `endReason` when there is none); on failure
 * nothing changed on the server, so the live connection comes back with the old token — unless
 * the session itself ended meanwhile (a 401 clears it; starting live then would leave it "running"
 * without a token and ignore the next sign-in's start).
 */
export const tokenChangingCall = async <T>(deps: TokenSwapDeps, call: () => Promise<T>, endReason: string): Promise<{ body: T; renewed: boolean }> => {
  deps.live.stop();
  let body: T;
  try {
    body = await call();
  } catch (err) {
    if (deps.session.current()) deps.live.start();
    throw err;
  }
  const fresh = freshSession(body);
  if (fresh) {
    deps.session.set(fresh);
    deps.live.start();
    return { body, renewed: true };
  }
  deps.session.clear(endReason);
  return { body, renewed: false };
};

/** A code as typed: spaces and dashes people add for readability go ("123 456" → "123456"). */
export const normalizeCode = (code: string): string => code.replace(/[\s-]+/g, '');

/** A 6-digit TOTP code, or (where allowed) a recovery code: anything else is a typo. */
export const codeProblem = (code: string, allowRecovery: boolean): string | null => {
  const c = normalizeCode(code);
  if (c === '') return 'enter the code from your authenticator app';
  if (/^\d{6}$/.test(c)) return null;
  if (allowRecovery && c.length >= 8 && c.length <= 64) return null;
  return allowRecovery ? 'a 6-digit code from the app, or one of your recovery codes' : 'the 6-digit code from your authenticator app';
};

/** The base32 secret in groups of four, as authenticator apps show it for manual entry. */
export const groupSecret = (secret: string): string => secret.replace(/\s+/g, '').match(/.{1,4}/g)?.join(' ') ?? '';

/** Issuer and account of an otpauth:// URL, to say what the authenticator entry will be called. */
export const otpauthLabel = (url: string): { issuer: string; account: string } | null => {
  let u: URL;
  try { u = new URL(url); } catch { return null; }
  if (u.protocol !== 'otpauth:') return null;
  const label = decodeURIComponent(u.pathname.replace(/^\/+/, '').replace(/^totp\//, '').replace(/^\/\/totp\//, ''));
  const i = label.indexOf(':');
  const issuer = u.searchParams.get('issuer') ?? (i >= 0 ? label.slice(0, i) : '');
  return { issuer, account: i >= 0 ? label.slice(i + 1) : label };
};

export type PasswordForm = { current: string; next: string; confirm: string };

/** Problems with the change-password form (the server checks the policy and the current password). */
export const passwordFormProblems = (f: PasswordForm, policy: (p: string) => string | null): { field: keyof PasswordForm; message: string }[] => {
  const out: { field: keyof PasswordForm; message: string }[] = [];
  if (f.current === '') out.push({ field: 'current', message: 'enter your current password' });
  const p = f.next === '' ? 'enter a new password' : policy(f.next);
  if (p) out.push({ field: 'next', message: p });
  else if (f.next === f.current) out.push({ field: 'next', message: 'the new password is the same as the current one' });
  if (f.confirm !== f.next) out.push({ field: 'confirm', message: 'the two new passwords differ' });
  return out;
};
