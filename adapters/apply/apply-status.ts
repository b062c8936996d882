/**
 * The apply status the API serves (`GET /api/v1/apply-status`, DESIGN §8) and the ws hub pushes
 * as `apply_status`: "desired seq N, applied seq M", the last attempt, and the broker.
 */
import type { ApplyResultKind, ApplyResultRow, QuarantineRow } from '../sqlite/apply-results.ts';

export type ApplyStatus = {
  /** The generation the event log asks for (seq of the last event that changed broker files). */
  desired_seq: number;
  /** The generation last applied (or, with reload strategy none, written). */
  applied_seq: number;
  /**
   * `adoption_required`: a configured broker file exists that MCM did not write (DESIGN §10
   * "Ownership"); MCM writes nothing until `mcm import` (or `--force-takeover`) adopts it.
   */
  state: 'applied' | 'pending' | 'failed' | 'adoption_required';
  last: { seq: number; result: ApplyResultKind; latency_ms: number | null; at: string; reason?: string } | null;
  /** `version`: the broker's version ("2.0.11"), null until known (supervised: the binary; external: `$SYS/broker/version`). */
  broker: { mode: 'supervised' | 'external'; up: boolean; reload: string; version: string | null; backend: 'files' | 'dynsec' };
  /** Present with state `adoption_required`: the foreign files, as found on disk. */
  adoption?: { files: ForeignFile[]; message: string };
  /**
   * Present while the desired render is quarantined (issue 12): the same content failed open at
   * `generation` and is not written again until it changes or an admin retries the apply.
   */
  quarantine?: { generation: number; content_sha256: string; reason: string; at: string; message: string };
};

/** How a quarantine reads in the status, the failed apply's reason and the security event. */
export const quarantineMessage = (q: Readonly<{ generation: number; reason: string }>): string =>
  `this configuration failed open when applied as generation ${q.generation} (${q.reason}) and is quarantined: ` +
  'MCM does not write it again until it changes, or until an admin retries the apply ' +
  '(POST /api/v1/apply-status/retry, or Retry apply in the web UI), which lifts the quarantine';

/** A broker file MCM did not write, found where it would write (adoption_required). */
export type ForeignFile = { file: 'password_file' | 'acl_file'; path: string; sha256: string };

/** The one text the log line, the security event, `/readyz` and `mcm status` use. */
export const adoptionMessage = (files: readonly ForeignFile[]): string =>
  `${files.map((f) => `${f.file} ${f.path}`).join(' and ')} ${files.length === 1 ? 'was' : 'were'} not written by MCM: ` +
  'MCM writes nothing over them. Run `mcm import` to adopt their users and rules ' +
  '(or start `mcm server --force-takeover` to replace them, keeping each original as <file>.pre-mcm)';

export type ApplyOutcome = Readonly<{
  generation: number;
  /** `adoption_required`: foreign broker files on disk, nothing written (not recorded as a result). */
  result: ApplyResultKind | 'adoption_required';
  reason?: string;
  latencyMs: number;
  /** Files written / reload sent by this attempt (coalescing is observable through these). */
  wrote: boolean;
  reloaded: boolean;
  /** Supervised: the broker was restarted for a mosquitto.conf change a reload cannot apply. */
  restarted?: boolean;
  failOpen?: boolean;
  /** Failed because the broker was down, not because of the files: re-applied when it is back. */
  retryable?: boolean;
  /**
   * Failed on an error around the apply (disk full, database locked, permissions), not on a
   * verdict about the files: the loop retries it with a backoff until it goes through.
   */
  errored?: boolean;
  /** Held back: the render is quarantined content (nothing written, reloaded or probed). */
  quarantined?: boolean;
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
  version?: string | null;
  /** Where users and rules are enforced (config mosquitto.backend, issue 15). */
  backend?: 'files' | 'dynsec';
  adoption?: readonly ForeignFile[] | null;
  quarantine?: QuarantineRow | null;
}>): ApplyStatus => {
  const applied = args.lastSuccess?.generation ?? 0;
  const last = args.last;
  const adoption = args.adoption?.length ? [...args.adoption] : null;
  const state = adoption ? 'adoption_required' : applied >= args.desired ? 'applied' : last?.result === 'failed' ? 'failed' : 'pending';
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
    broker: { mode: args.mode, up: args.up, reload: args.reload, version: args.version ?? null, backend: args.backend ?? 'files' },
    ...(adoption ? { adoption: { files: adoption, message: adoptionMessage(adoption) } } : {}),
    ...(args.quarantine && state === 'failed' ? { quarantine: { ...args.quarantine, message: quarantineMessage(args.quarantine) } } : {}),
  };
};
