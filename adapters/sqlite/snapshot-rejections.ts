/**
 * Snapshots are trusted only with a matching HMAC (key in secrets/); an edited one is refused
 * while the event store opens (event-store.ts `onSnapshotRejected`). That is before the security
 * event log exists, so the refusals are kept here and reported, one critical event each, once it does.
 */
import type { SecurityEventLog } from './security-events.ts';

export type SnapshotRejections = {
  /** For the event store's `onSnapshotRejected`. */
  onRejected(seq: number, reason: string): void;
  /** Records a security event per refused snapshot. */
  report(log: Pick<SecurityEventLog, 'record'>): void;
};

export const createSnapshotRejections = (): SnapshotRejections => {
  const rejected: { seq: number; reason: string }[] = [];
  return {
    onRejected: (seq, reason) => { rejected.push({ seq, reason }); },
    report: (log) => {
      for (const r of rejected) {
        log.record({ category: 'integrity.snapshot_rejected', severity: 'critical', message: `the snapshot at seq ${r.seq} was ignored: ${r.reason}; the state was folded from the event log instead`, details: { seq: r.seq } });
      }
    },
  };
};
