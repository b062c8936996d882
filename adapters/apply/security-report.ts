/**
 * How the apply worker and its parts raise a security event: recorded (and so relayed to ws,
 * metrics and webhooks) and logged at the level its severity names. A database that refuses the
 * record is logged, never thrown: the apply's outcome stands.
 */
import type { ApplyLoopDeps } from './apply-loop.ts';

export type Severity = 'info' | 'warning' | 'critical';

export type SecurityReport = (category: string, severity: Severity, message: string, details?: Record<string, unknown>) => void;

export const createSecurityReport = (deps: Pick<ApplyLoopDeps, 'security' | 'logger'>): SecurityReport =>
  (category, severity, message, details = {}) => {
    try { deps.security.record({ category, severity, message, details }); } catch (e) {
      deps.logger?.error({ err: (e as Error).message }, 'cannot record security event');
    }
    const log = severity === 'critical' ? deps.logger?.error : severity === 'warning' ? deps.logger?.warn : deps.logger?.info;
    log?.call(deps.logger, { category, ...details }, message);
  };
