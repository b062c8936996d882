/**
 * One line of `mcm doctor`: what was checked, how it went, and — when it did not pass — what to
 * do about it. `fail` makes the command exit 1; `warn` is worth reading but MCM can run.
 */
export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skip';

export type CheckResult = Readonly<{
  /** Stable id for scripts (`--json`): config, data-dir, free-space, database, mosquitto, broker-files, broker, reload, https. */
  id: string;
  status: CheckStatus;
  detail: string;
  /** How to fix it; given for fail and warn. */
  hint?: string;
  /** For multi-step checks (the broker: tcp, tls, mqtt): the step that failed. */
  phase?: string;
}>;

export const pass = (id: string, detail: string): CheckResult => ({ id, status: 'pass', detail });
export const skip = (id: string, detail: string): CheckResult => ({ id, status: 'skip', detail });
export const warn = (id: string, detail: string, hint: string): CheckResult => ({ id, status: 'warn', detail, hint });
export const fail = (id: string, detail: string, hint: string, phase?: string): CheckResult =>
  ({ id, status: 'fail', detail, hint, ...(phase ? { phase } : {}) });

/** Bytes for people: 1.5 GiB, 320.0 MiB. */
export const formatBytes = (n: number): string => {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; }
  return u === 0 ? `${v} B` : `${v.toFixed(1)} ${units[u]}`;
};
