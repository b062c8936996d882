/**
 * One counted sign-in attempt (password, MFA code or re-authentication), per (address, username)
 * pair, per address and per username (DESIGN §9, lockout.ts): refused with 429 + Retry-After
 * while the pair or the address is locked; a username with many recent failures waits before
 * its check; a failure is recorded as a security event and counted; the failure that locks also
 * records `auth.locked_out` and is itself answered 429.
 */
import type { HttpDeps } from '../deps.ts';
import { HTTP_ERROR_CODES, HttpError } from '../errors.ts';
import type { Lock, Lockout, LockoutSubject } from './lockout.ts';

/** `username` '' when the attempt names no user (e.g. an unknown MFA challenge): only the address counts. */
export type AttemptWho = Readonly<{ username: string; ip: string; requestId?: string }>;

export type AttemptFailure = Readonly<{ category: string; message: string; details?: Record<string, unknown> }>;

/** `45 seconds`, `12 minutes`, `2 hours`: roughly, for people. */
export const durationInWords = (seconds: number): string => {
  const unit = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
  if (seconds < 60) return unit(Math.max(1, Math.round(seconds)), 'second');
  if (seconds < 3600) return unit(Math.round(seconds / 60), 'minute');
  if (seconds < 86_400) return unit(Math.round(seconds / 3600), 'hour');
  return unit(Math.round(seconds / 86_400), 'day');
};

/** `14:05:09 UTC`, with the date when it is not today's (UTC). */
const clockTime = (untilMs: number, nowMs: number): string => {
  const until = new Date(untilMs).toISOString();
  const sameDay = until.slice(0, 10) === new Date(nowMs).toISOString().slice(0, 10);
  return `${sameDay ? '' : `${until.slice(0, 10)} `}${until.slice(11, 19)} UTC`;
};

const quote = (s: string): string => JSON.stringify(s);

/** What is locked, until when, and how an admin lifts it — in words. */
export const lockMessage = (lock: Lock, nowMs: number): string => {
  const until = `until ${clockTime(lock.untilMs, nowMs)} (in ${durationInWords(Math.max(1, (lock.untilMs - nowMs) / 1000))})`;
  return lock.scope === 'pair'
    ? `sign-in for ${quote(lock.username ?? '')} from ${lock.address} is locked ${until} after ${lock.failures} failed attempts; ` +
      `an admin can lift it with \`mcm admins unlock ${lock.username ?? ''}\``
    : `sign-in from ${lock.address} is locked for every username ${until} after ${lock.failures} failed attempts from there; ` +
      `an admin can lift it with \`mcm admins unlock --address ${lock.address}\``;
};

/** 429 for a lock, or (lock null) for a source with too many attempts being checked at once. */
export const lockedOut = (lock: Lock | null, subject: LockoutSubject, nowMs: number): HttpError => {
  const retryAfterS = lock === null ? 1 : Math.max(1, Math.ceil((lock.untilMs - nowMs) / 1000));
  const message = lock === null
    ? `too many sign-in attempts${subject.username === '' ? '' : ` for ${quote(subject.username)}`} from ${subject.ip} are being checked right now: try again in 1 second`
    : lockMessage(lock, nowMs);
  const details = lock === null
    ? { retry_after_s: retryAfterS, locked: 'busy', username: subject.username || null, address: subject.ip }
    : { retry_after_s: retryAfterS, locked: lock.scope, username: lock.username, address: lock.address, failures: lock.failures, until: new Date(lock.untilMs).toISOString() };
  return new HttpError(429, HTTP_ERROR_CODES.LOCKED_OUT, message, [details], { 'Retry-After': String(retryAfterS) });
};

export type AttemptDeps = Pick<HttpDeps, 'securityLog' | 'config' | 'clock'> & { auth: { lockout: Lockout } };

const sleep = (ms: number): Promise<void> => new Promise((resolve) => { setTimeout(resolve, ms); });

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
  const subject: LockoutSubject = { ip: who.ip, username: who.username };
  const attempt = await deps.auth.lockout.begin(subject);
  if (attempt.kind === 'refused') throw lockedOut(attempt.lock, subject, Date.parse(deps.clock.now()));
  let failure: AttemptFailure | null = null;
  try {
    // The username's growing delay, before the check: a guess for a much-tried name costs time.
    if (attempt.delayMs > 0) await sleep(attempt.delayMs);
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
  const lock = attempt.fail();
  if (lock !== null) {
    const nowMs = Date.parse(deps.clock.now());
    const error = lockedOut(lock, subject, nowMs);
    deps.securityLog.record({
      category: 'auth.locked_out',
      severity: 'critical',
      message: lockMessage(lock, nowMs),
      details: { ...(error.details[0] as Record<string, unknown>), request_id: who.requestId },
      actor: who.username || null,
      ip: who.ip,
    });
    throw error;
  }
  throw refusal(failure);
};
