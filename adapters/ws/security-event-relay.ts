/**
 * Security events on the live channel: a SecurityEventLog that records as before and then
 * publishes `security_event` on the bus (category, severity, message, time — no details, actor or
 * ip: those stay behind `GET /security/events`). The ws hub sends them to auditors and above, the
 * metrics count them by category. adapters/main.ts hands this wrapper to everyone that records.
 * Repeats aggregated into an open window (sqlite/security-events.ts) are not relayed again.
 */
import type { LiveBus } from '../live/live-bus.ts';
import type { SecurityEventLog } from '../sqlite/security-events.ts';

export const relaySecurityEvents = (log: SecurityEventLog, bus: LiveBus): SecurityEventLog => ({
  ...log,
  record: (input) => {
    const event = log.record(input);
    // A repeat counted into an open window was relayed with its first occurrence (one webhook per window).
    if (event.repeated === true) return event;
    bus.publish({ type: 'security_event', category: event.category, severity: event.severity, message: event.message, at: event.at });
    return event;
  },
});
