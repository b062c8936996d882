/**
 * Certificates running out (issue 13): at start and then daily, every stored certificate whose
 * notAfter is within 30 days raises a security event `certificate.expiring` — warning, critical
 * when 7 days or less are left or it has expired — once per certificate (and fingerprint) per UTC
 * day, also across restarts (the security event table says what was raised today). Security
 * events reach the ws hub, the metrics and the `security_event` webhooks (ws/security-event-relay.ts).
 */
import type { Clock, EventStore } from '../../core/ports.ts';
import type { SecurityEventLog } from '../sqlite/security-events.ts';
import { daysUntil, usesOf } from './certificate-view.ts';

export const CERTIFICATE_EXPIRING = 'certificate.expiring';

export type ExpiryCheckOptions = Readonly<{
  /** Raise when this many days or fewer are left (default 30). */
  warnDays?: number;
  /** Critical at this many days or fewer (default 7). */
  criticalDays?: number;
}>;

export type ExpiryCheckDeps = Readonly<{
  store: Pick<EventStore, 'state'>;
  securityLog: Pick<SecurityEventLog, 'record' | 'list'>;
  clock: Clock;
  logger?: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
}> & ExpiryCheckOptions;

export type ExpiryCheck = {
  /** Checks now; returns the names it raised an event for. */
  check(): string[];
  /** Checks now and then every `intervalMs` (default a day); returns the stop function. */
  start(intervalMs?: number): () => void;
};

const DAY_MS = 86_400_000;

export const createCertificateExpiryCheck = (deps: ExpiryCheckDeps): ExpiryCheck => {
  const warnDays = deps.warnDays ?? 30;
  const criticalDays = deps.criticalDays ?? 7;

  /** `name fingerprint` of the events raised since the start of today (UTC). */
  const raisedToday = (now: Date): Set<string> => {
    const since = new Date(Math.floor(now.getTime() / DAY_MS) * DAY_MS).toISOString();
    const page = deps.securityLog.list({ category: CERTIFICATE_EXPIRING, since, limit: 1000 });
    return new Set(page.items.map((e) => `${String(e.details.name)} ${String(e.details.fingerprint)}`));
  };

  const check = (): string[] => {
    const now = new Date(deps.clock.now());
    const state = deps.store.state();
    const due = Object.values(state.certificates ?? {}).filter((c) => daysUntil(c.notAfter, now) <= warnDays);
    if (due.length === 0) return [];
    const seen = raisedToday(now);
    const raised: string[] = [];
    for (const c of due) {
      if (seen.has(`${c.name} ${c.fingerprint}`)) continue;
      const days = daysUntil(c.notAfter, now);
      const expired = Date.parse(c.notAfter) <= now.getTime();
      const uses = usesOf(state, c.name);
      const where = uses.length === 0 ? 'not used by the broker' : `used by ${uses.join(', ')}`;
      const message = expired
        ? `certificate ${c.name} ("${c.subject}") expired on ${c.notAfter} (${where}): clients refuse it; replace it with \`mcm certs add ${c.name} --cert F [--key F] --replace\``
        : `certificate ${c.name} ("${c.subject}") expires on ${c.notAfter}, in ${days} day${days === 1 ? '' : 's'} (${where}): replace it with \`mcm certs add ${c.name} --cert F [--key F] --replace\``;
      const severity = expired || days <= criticalDays ? 'critical' : 'warning';
      try {
        deps.securityLog.record({
          category: CERTIFICATE_EXPIRING, severity, message,
          details: { name: c.name, fingerprint: c.fingerprint, not_after: c.notAfter, expires_in_days: days, uses },
        });
        raised.push(c.name);
        deps.logger?.warn({ category: CERTIFICATE_EXPIRING, name: c.name, not_after: c.notAfter }, message);
      } catch (e) {
        deps.logger?.error({ err: (e as Error).message, name: c.name }, 'cannot record the certificate expiry event');
      }
    }
    return raised;
  };

  const safeCheck = (): void => {
    try { check(); } catch (e) { deps.logger?.error({ err: (e as Error).message }, 'certificate expiry check failed'); }
  };

  return {
    check,
    start: (intervalMs = DAY_MS) => {
      safeCheck();
      const timer = setInterval(safeCheck, intervalMs);
      timer.unref();
      return () => clearInterval(timer);
    },
  };
};
