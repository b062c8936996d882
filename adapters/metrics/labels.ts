/**
 * Label values come from fixed sets so a metric's series count is bounded whatever the input
 * (Prometheus: "do not use labels to store dimensions with high cardinality"). Anything outside
 * a set becomes "other"; security categories outside the known list keep their known prefix
 * ("auth.other") or become "other".
 */
export const OTHER = 'other';

export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
export const SCHEMA_RESULTS = ['valid', 'invalid'] as const;
export const APPLY_RESULTS = ['applied', 'written', 'failed'] as const;
/** One delivery attempt: 2xx, a failed attempt (retried later), the last failure (dead letter), a refused URL. */
export const WEBHOOK_RESULTS = ['delivered', 'failed', 'dead_letter', 'refused'] as const;
export const LOGIN_RESULTS = ['success', 'mfa_required', 'failure', 'locked_out', 'invalid'] as const;
/** Observed messages that could not be read (adapters/observer/sparkplug-tracker.ts counters). */
export const MALFORMED_KINDS = ['sparkplug_payload', 'sparkplug_topic'] as const;

/** The categories MCM records (adapters/http/auth, adapters/apply, adapters/ws). */
export const SECURITY_CATEGORIES = [
  'auth.login_failed', 'auth.login_succeeded', 'auth.locked_out', 'auth.unlocked', 'auth.mfa_failed', 'auth.reauth_failed',
  'auth.token_invalid', 'auth.token_revoked', 'auth.sso_failed',
  'apply.failed', 'apply.fail_open', 'broker.unreachable', 'files.drift',
  'files.adoption_required', 'broker.exited', 'integrity.snapshot_rejected', 'integrity.good_files_rejected',
  'apply.quarantined', 'apply.quarantine_lifted', 'certificate.expiring',
] as const;
const SECURITY_PREFIXES = ['auth', 'apply', 'broker', 'files', 'gitops', 'webhook', 'schema', 'integrity', 'certificate'] as const;

export type SchemaResult = (typeof SCHEMA_RESULTS)[number];
export type ApplyResultLabel = (typeof APPLY_RESULTS)[number];
export type WebhookResult = (typeof WEBHOOK_RESULTS)[number];
export type LoginResult = (typeof LOGIN_RESULTS)[number];
export type MalformedKind = (typeof MALFORMED_KINDS)[number];

export const bucket = <T extends string>(allowed: readonly T[], value: string): T | typeof OTHER =>
  (allowed as readonly string[]).includes(value) ? (value as T) : OTHER;

export const httpMethodLabel = (method: string): string => bucket(HTTP_METHODS, method.toUpperCase());

export const securityCategoryLabel = (category: string): string => {
  if ((SECURITY_CATEGORIES as readonly string[]).includes(category)) return category;
  const prefix = category.split('.')[0] ?? '';
  return (SECURITY_PREFIXES as readonly string[]).includes(prefix) ? `${prefix}.${OTHER}` : OTHER;
};

/** A login route's response → its result label (http-middleware.ts). */
export const loginResult = (status: number, body: unknown): LoginResult => {
  if (status >= 200 && status < 300) {
    const mfa = body !== null && typeof body === 'object' && (body as { mfa_required?: unknown }).mfa_required === true;
    return mfa ? 'mfa_required' : 'success';
  }
  if (status === 401) return 'failure';
  if (status === 429) return 'locked_out';
  return 'invalid';
};
