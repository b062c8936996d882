/**
 * The apply status the API serves (`GET /api/v1/apply-status`, DESIGN §8) and the ws hub pushes
 * as `apply_status`: "desired seq N, applied seq M", the last attempt, and the broker.
 */
import type { ApplyResultKind, ApplyResultRow } from '../sqlite/apply-results.ts';

export type ApplyStatus = {
  /** The generation the event log asks for (seq of the last event that changed broker files). */
  desired_seq: number;
  /** The generation last applied (or, with reload strategy none, written). */
  applied_seq: number;
  state: 'applied' | 'pending' | 'failed';
  last: { seq: number; result: ApplyResultKind; latency_ms: number | null; at: string; reason?: string } | null;
  broker: { mode: 'supervised' | 'external'; up: boolean; reload: string };
};

export type ApplyOutcome = Readonly<{
  generation: number;
  result: ApplyResultKind;
  reason?: string;
  latencyMs: number;
  /** Files written / reload sent by this attempt (coalescing is observable through these). */
  wrote: boolean;
  reloaded: boolean;
  failOpen?: boolean;
  /** Failed because the broker was down, not because of the files: re-applied when it is back. */
  retryable?: boolean;
  /**
   * Failed on an error around the apply (disk full, database locked, permissions), not on a
   * verdict about the files: the loop retries it with a backoff until it goes through.
   */
  errored?: boolean;
  /** Milliseconds per step of an apply that reached the broker (wait, render, validate, compare, write, reload_confirm, checkpoint). */
  phases?: Readonly<Record<string, number>>;
}>;

export const buildApplyStatus = (args: Readonly<{
  desired: number;
  lastSuccess: ApplyResultRow | null;
  last: ApplyResultRow | null;
  mode: 'supervised' | 'external';
  up: boolean;
  reload: string;
}>): ApplyStatus => {
  const applied = args.lastSuccess?.generation ?? 0;
  const last = args.last;
  const state = applied >= args.desired ? 'applied' : last?.result === 'failed' ? 'failed' : 'pending';
  return {
    desired_seq: args.desired,
    applied_seq: applied,
    state,
    last: last
      ? {
        seq: last.generation,
        result: last.result,
        latency_ms: last.latency_ms,
        at: last.at,
        ...(last.reason ? { reason: last.reason } : {}),
      }
      : null,
    broker: { mode: args.mode, up: args.up, reload: args.reload },
  };
};
