/**
 * One counted sign-in attempt (password, MFA code or re-authentication), per client address and
 * username (DESIGN §9): refused with 429 + Retry-After while either is locked; a failure is
 * recorded as a security event and counted; the failure that reaches the limit also records
 * `auth.locked_out` and is itself answered 429.
 */
import type { HttpDeps } from '../deps.ts';
import { HTTP_ERROR_CODES, HttpError } from '../errors.ts';
import { ipKey, userKey, type Lockout } from './lockout.ts';

/** `username` '' when the attempt names no user (e.g. an unknown MFA challenge): only the address counts. */
export type AttemptWho = Readonly<{ username: string; ip: string; requestId?: string }>;

export type AttemptFailure = Readonly<{ category: string; message: string; details?: Record<string, unknown> }>;

export const lockedOut = (retryAfterS: number): HttpError =>
  new HttpError(429, HTTP_ERROR_CODES.LOCKED_OUT, `too many failed sign-in attempts: try again in ${retryAfterS} s`, [
    { retry_after_s: retryAfterS },
  ], { 'Retry-After': String(retryAfterS) });

export type AttemptDeps = Pick<HttpDeps, 'securityLog' | 'config'> & { auth: { lockout: Lockout } };

/**
 * Runs `check` as one attempt. `check` resolves to null on success (the attempt ends) or to the
 * failure to record, in which case `refusal()` is thrown (or 429 when this failure locks).
 */
export const countedAttempt = async (
  deps: AttemptDeps,
  who: AttemptWho,
  check: () => Promise<AttemptFailure | null>,
  refusal: (failure: AttemptFailure) => Error,
): Promise<void> => {
  const keys = who.username === '' ? [ipKey(who.ip)] : [ipKey(who.ip), userKey(who.username)];
  const attempt = deps.auth.lockout.begin(keys);
  if (typeof attempt === 'number') throw lockedOut(attempt);
  let failure: AttemptFailure | null = null;
  try {
    failure = await check();
  } finally {
    if (failure === null) attempt.done(); // success, or check threw: neither counts as a failure
  }
  if (!failure) return;
  deps.securityLog.record({
    category: failure.category,
    severity: 'warning',
    message: failure.message,
    details: { ...failure.details, request_id: who.requestId },
    actor: who.username || null,
    ip: who.ip,
  });
  const lockedFor = attempt.fail();
  if (lockedFor > 0) {
    deps.securityLog.record({
      category: 'auth.locked_out',
      severity: 'critical',
      message: `sign-in locked for ${lockedFor} s after ${deps.config.auth.lockout.max_failures} failures within ${deps.config.auth.lockout.window_s} s`,
      details: { retry_after_s: lockedFor, request_id: who.requestId },
      actor: who.username || null,
      ip: who.ip,
    });
    throw lockedOut(lockedFor);
  }
  throw refusal(failure);
};
