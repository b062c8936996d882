/**
 * The one place that knows HTTP statuses (STYLE principle 6). Handlers throw DomainError (core)
 * or HttpError (transport problems: auth, body parsing, lockout); `errorMapper` turns both into
 * `{"error": {"code", "message", "details"}}` with the right status (DESIGN §8). Anything else is
 * a bug: 500 with a generic message, the error itself goes to the log only.
 */
import type Koa from 'koa';
import { ERROR_CODES, isDomainError, type ErrorDetail } from '../../core/errors.ts';
import { storageErrorOf, STORAGE_BUSY_RETRY_AFTER_S } from '../sqlite/storage-errors.ts';
import type { Logger } from './deps.ts';

/** Codes raised by the HTTP adapter itself (never by the core). Outside scripts depend on them. */
export const HTTP_ERROR_CODES = {
  UNAUTHENTICATED: 'MCM_ERR_UNAUTHENTICATED',
  FORBIDDEN: 'MCM_ERR_FORBIDDEN',
  /** An API token on a route that manages identity, below admin, or on a person's own password/MFA (issue 17). */
  TOKEN_NOT_ALLOWED: 'MCM_ERR_TOKEN_NOT_ALLOWED',
  /** POST /auth/password or /auth/mfa/setup by a user single sign-on created (no MCM password). */
  NO_LOCAL_PASSWORD: 'MCM_ERR_NO_LOCAL_PASSWORD',
  LOGIN_FAILED: 'MCM_ERR_LOGIN_FAILED',
  LOCKED_OUT: 'MCM_ERR_LOCKED_OUT',
  MFA_CHALLENGE_INVALID: 'MCM_ERR_MFA_CHALLENGE_INVALID',
  MFA_CODE_INVALID: 'MCM_ERR_MFA_CODE_INVALID',
  REAUTH_FAILED: 'MCM_ERR_REAUTH_FAILED',
  PASSWORD_POLICY: 'MCM_ERR_PASSWORD_POLICY',
  BODY_TOO_LARGE: 'MCM_ERR_BODY_TOO_LARGE',
  /** POST /batch with more operations than it takes (413). */
  BATCH_TOO_LARGE: 'MCM_ERR_BATCH_TOO_LARGE',
  UNSUPPORTED_MEDIA_TYPE: 'MCM_ERR_UNSUPPORTED_MEDIA_TYPE',
  JSON_INVALID: 'MCM_ERR_JSON_INVALID',
  ROUTE_NOT_FOUND: 'MCM_ERR_ROUTE_NOT_FOUND',
  METHOD_NOT_ALLOWED: 'MCM_ERR_METHOD_NOT_ALLOWED',
  INTERNAL: 'MCM_ERR_INTERNAL',
  /** Single sign-on (auth.oidc) is not configured: the SSO routes have nothing to do. */
  SSO_NOT_CONFIGURED: 'MCM_ERR_SSO_NOT_CONFIGURED',
  /** The OpenID Provider could not be reached, or its answer could not be read (502). */
  SSO_PROVIDER_UNAVAILABLE: 'MCM_ERR_SSO_PROVIDER_UNAVAILABLE',
  /** The SSO callback failed a check: unknown or expired flow, wrong `state`, invalid ID token, provider error. */
  SSO_FAILED: 'MCM_ERR_SSO_FAILED',
  /** The provider vouched for the user, but none of their groups maps to an MCM role (403). */
  SSO_NO_ROLE: 'MCM_ERR_SSO_NO_ROLE',
  /** POST /auth/oidc/exchange without a sign-in result to collect (none, used, or older than a minute). */
  SSO_NOTHING_PENDING: 'MCM_ERR_SSO_NOTHING_PENDING',
  /** auth.oidc.password_login is false: people sign in through the OpenID Provider only (403). */
  PASSWORD_LOGIN_DISABLED: 'MCM_ERR_PASSWORD_LOGIN_DISABLED',
} as const;

export class HttpError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: readonly ErrorDetail[];
  /** Extra response headers, e.g. Retry-After for 429 or WWW-Authenticate for 401. */
  readonly headers: Readonly<Record<string, string>>;
  constructor(status: number, code: string, message: string, details: readonly ErrorDetail[] = [], headers: Readonly<Record<string, string>> = {}) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
    this.code = code;
    this.details = details;
    this.headers = headers;
  }
}

/** Statuses of the codes that the suffix rules below would not get right, or that need saying. */
const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  [ERROR_CODES.VALIDATION]: 400,
  [ERROR_CODES.USERNAME_RESERVED]: 409,
  [ERROR_CODES.ROLE_IN_USE]: 409,
  [ERROR_CODES.BACKEND_UNSUPPORTED]: 422,
  [ERROR_CODES.ROLE_ALREADY_GRANTED]: 409,
  [ERROR_CODES.ROLE_NOT_GRANTED]: 409,
  [ERROR_CODES.LAST_ADMIN]: 409,
  [ERROR_CODES.MFA_STATE]: 409,
  [ERROR_CODES.TOKEN_ROLE_TOO_HIGH]: 403,
  [ERROR_CODES.STALE_STREAM]: 412,
  [ERROR_CODES.EVENT_UNKNOWN]: 400,
  [ERROR_CODES.WEBHOOK_PRIVATE_ADDRESS]: 400,
  [ERROR_CODES.IMPORT_INVALID]: 400,
  [ERROR_CODES.CERTIFICATE_IN_USE]: 409,
  [ERROR_CODES.RESTART_NOT_CONFIRMED]: 428,
  [ERROR_CODES.BROKER_CONFIG_UNMANAGED]: 409,
  [ERROR_CODES.SSO_USER_UNKNOWN]: 403,
  [ERROR_CODES.SSO_ACCOUNT_CONFLICT]: 409,
  [ERROR_CODES.ADMIN_USER_DISABLED]: 403,
  // RFC 4918 §11.5: "unable to store the representation needed to complete the request".
  [ERROR_CODES.STORAGE_FULL]: 507,
  [ERROR_CODES.STORAGE_BUSY]: 503,
};

/** Retry-After (seconds) sent with these codes. */
const RETRY_AFTER_BY_CODE: Readonly<Record<string, number>> = {
  [ERROR_CODES.STORAGE_BUSY]: STORAGE_BUSY_RETRY_AFTER_S,
};

/**
 * DomainError code → status. Rules by suffix cover codes other helpers add to core/errors.ts
 * later (`*_INVALID` → 400, `*_NOT_FOUND` → 404, `*_EXISTS` → 409); unknown → 500.
 */
export const statusForCode = (code: string): number => {
  const explicit = STATUS_BY_CODE[code];
  if (explicit !== undefined) return explicit;
  if (code.endsWith('_INVALID') || code.endsWith('_RESERVED') || code.endsWith('_TOO_LONG')) return 400;
  if (code.endsWith('_NOT_FOUND')) return 404;
  if (code.endsWith('_EXISTS') || code.endsWith('_IN_USE') || code.endsWith('_ALREADY') || code.includes('_ALREADY_')) return 409;
  return 500;
};

export type ErrorBody = { error: { code: string; message: string; details: readonly ErrorDetail[] } };

export const errorBody = (code: string, message: string, details: readonly ErrorDetail[] = []): ErrorBody => ({
  error: { code, message, details },
});

/** Koa throws these (ctx.throw, http-errors) with `status` and `expose`. */
const isKoaHttpError = (e: unknown): e is Error & { status: number; expose?: boolean } =>
  e instanceof Error && typeof (e as { status?: unknown }).status === 'number';

/** The status `errorMapper` will answer for `err` (the access log runs below it and needs it). */
export const statusOfError = (err: unknown): number => {
  if (err instanceof HttpError) return err.status;
  if (isDomainError(err)) return statusForCode(err.code);
  const storage = storageErrorOf(err);
  if (storage) return statusForCode(storage.code);
  if (isKoaHttpError(err) && err.status >= 400 && err.status < 500 && err.expose !== false) return err.status;
  return 500;
};

/**
 * Top of the stack after request id and security headers, so even a 500 carries both. Reports
 * unexpected errors to the logger with the request id (never the body or headers).
 */
export const errorMapper = (logger: Logger): Koa.Middleware => async (ctx, next) => {
  try {
    await next();
  } catch (thrown) {
    // A full disk or a locked database met outside the event log (security events, lockout,
    // apply results) is the same condition as inside it: a stable code, not a 500.
    const storage = isDomainError(thrown) || thrown instanceof HttpError ? null : storageErrorOf(thrown);
    if (storage) logger.warn({ code: storage.code, err: storage.message, req_id: ctx.state.requestId }, 'storage refused a write');
    const err: unknown = storage ?? thrown;
    let status: number;
    let body: ErrorBody;
    if (err instanceof HttpError) {
      status = err.status;
      body = errorBody(err.code, err.message, err.details);
      for (const [name, value] of Object.entries(err.headers)) ctx.set(name, value);
    } else if (isDomainError(err)) {
      status = statusForCode(err.code);
      body = status === 500
        ? errorBody(HTTP_ERROR_CODES.INTERNAL, 'internal error')
        : errorBody(err.code, err.message, err.details);
      const retryAfter = RETRY_AFTER_BY_CODE[err.code];
      if (retryAfter !== undefined) ctx.set('Retry-After', String(retryAfter));
      if (status === 500) logger.error({ err, req_id: ctx.state.requestId }, 'unmapped domain error code');
    } else if (isKoaHttpError(err) && err.status >= 400 && err.status < 500 && err.expose !== false) {
      status = err.status;
      const code = status === 404 ? HTTP_ERROR_CODES.ROUTE_NOT_FOUND
        : status === 405 ? HTTP_ERROR_CODES.METHOD_NOT_ALLOWED
          : `MCM_ERR_HTTP_${status}`;
      body = errorBody(code, err.message);
    } else {
      status = 500;
      body = errorBody(HTTP_ERROR_CODES.INTERNAL, 'internal error');
      logger.error({ err, req_id: ctx.state.requestId }, 'request failed');
    }
    ctx.status = status;
    ctx.body = body;
  }
};
