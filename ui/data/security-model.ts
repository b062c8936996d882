/**
 * The security events screen's data: GET /security/events (filters: category — exact —,
 * severity, since, until; newest first; `next` pages older) and the live `security_event`
 * messages (category, severity, message and time only: the details stay behind the REST route).
 * Pure, tested in tests/ui/security-model.test.ts.
 */
import type { Query } from './api-client.ts';
import { inTimeRange, utcInputToIso } from './audit-paging.ts';

export type Severity = 'info' | 'warning' | 'critical';
export const SEVERITIES: readonly Severity[] = ['info', 'warning', 'critical'];

export type SecurityEvent = {
  id: number;
  at: string;
  category: string;
  severity: Severity;
  message: string;
  details: Record<string, unknown>;
  actor: string | null;
  ip: string | null;
};

/** The categories MCM records (adapters/http/auth, adapters/apply, adapters/ws), with what they mean. */
export const KNOWN_CATEGORIES: readonly { category: string; meaning: string }[] = [
  { category: 'auth.login_failed', meaning: 'a sign-in with a wrong password or unknown username' },
  { category: 'auth.login_succeeded', meaning: 'a successful sign-in' },
  { category: 'auth.locked_out', meaning: 'too many failures: sign-in for a username from one address, or from an address altogether, is locked for a while' },
  { category: 'auth.unlocked', meaning: 'an admin lifted a sign-in lock early (Admin users screen or mcm admins unlock)' },
  { category: 'auth.mfa_failed', meaning: 'a wrong, replayed or expired second factor' },
  { category: 'auth.reauth_failed', meaning: 'a wrong password or code when confirming a sensitive change' },
  { category: 'auth.token_invalid', meaning: 'a request with a malformed or forged token' },
  { category: 'auth.sso_failed', meaning: 'a single sign-on (OpenID Connect) that was refused: a wrong state, an invalid ID token, no group mapped to a role, an unknown or disabled user' },
  { category: 'auth.token_revoked', meaning: 'a token used after its user changed password, role, MFA or was disabled' },
  { category: 'apply.failed', meaning: 'the broker did not take a new configuration; the previous one stays' },
  { category: 'apply.probe_failed', meaning: 'a probe did not confirm that the new rules are enforced' },
  { category: 'apply.restore_failed', meaning: 'restoring the last known-good files did not confirm' },
  { category: 'apply.fail_open', meaning: 'the broker stopped enforcing access control (critical)' },
  { category: 'broker.unreachable', meaning: 'MCM cannot reach the broker' },
  { category: 'files.drift', meaning: 'a broker file was changed or removed outside MCM' },
  { category: 'files.adoption_required', meaning: 'MCM found broker files it did not write and leaves them alone until they are imported (Import screen or mcm import)' },
  { category: 'broker.exited', meaning: 'the broker exited (a 2.1 broker does on a bad reload); MCM restored the last good files' },
  { category: 'apply.quarantined', meaning: 'a render that failed open is held back: it is not applied again until it changes or an admin retries' },
  { category: 'apply.quarantine_lifted', meaning: 'an admin retried the apply: held-back content may be applied again' },
  { category: 'integrity.good_files_rejected', meaning: 'the record of the last files the broker confirmed did not match its HMAC (edited?) and was ignored; the files on disk are treated as not MCM\'s' },
  { category: 'certificate.expiring', meaning: 'a stored TLS certificate expires within 30 days (critical at 7 days or less, or once expired): upload a new one on the Broker screen' },
  { category: 'integrity.snapshot_rejected', meaning: 'a snapshot of the state did not match its HMAC (edited?) and was ignored; the state was rebuilt from the event log' },
];

export type SecurityFilters = { category: string; severity: '' | Severity; since: string; until: string };
export const NO_SECURITY_FILTERS: SecurityFilters = { category: '', severity: '', since: '', until: '' };
export const SECURITY_PAGE_SIZE = 50;

export const securityQuery = (f: SecurityFilters, cursor?: string, limit = SECURITY_PAGE_SIZE): Query => ({
  category: f.category.trim() || undefined,
  severity: f.severity || undefined,
  since: utcInputToIso(f.since),
  until: utcInputToIso(f.until, true),
  limit,
  cursor,
});

export const hasSecurityFilters = (f: SecurityFilters): boolean =>
  f.category.trim() !== '' || f.severity !== '' || f.since !== '' || f.until !== '';

export type SecurityLive = { category: string; severity: string; message: string; at?: string };

export const liveSecurityMatches = (m: SecurityLive, f: SecurityFilters): boolean => {
  const category = f.category.trim();
  if (category !== '' && m.category !== category) return false;
  if (f.severity !== '' && m.severity !== f.severity) return false;
  return inTimeRange(m.at, f.since, f.until);
};

/** The badge class of a severity (theme.ts: .badge.ok/.warn/.error). */
export const severityTone = (s: string): '' | 'warn' | 'error' => (s === 'critical' ? 'error' : s === 'warning' ? 'warn' : '');

export const categoryMeaning = (category: string): string =>
  KNOWN_CATEGORIES.find((c) => c.category === category)?.meaning ?? '';

/** Details as short `key=value` pairs for the table (objects as JSON, long values cut). */
export const detailPairs = (details: Record<string, unknown> | null | undefined): string[] =>
  Object.entries(details ?? {}).map(([k, v]) => {
    const s = typeof v === 'string' ? v : JSON.stringify(v);
    return `${k}=${s !== undefined && s.length > 120 ? `${s.slice(0, 119)}…` : s}`;
  });
