/**
 * Quarantine of content that failed open (issue 12): a render whose apply left the broker open is
 * not handed to the broker again until it changes or an admin retries the apply. The rows live in
 * the apply results (sqlite/apply-results.ts); this is the worker's side — the render's content
 * key, the apply held back, the admin's lift — and the one security event per held-back content.
 */
import { performance } from 'node:perf_hooks';
import type { Clock } from '../../core/ports.ts';
import type { ApplyResults, QuarantineRow } from '../sqlite/apply-results.ts';
import type { ApplyLoopDeps } from './apply-loop.ts';
import { quarantineMessage, type ApplyOutcome } from './apply-status.ts';
import { confAllowsAnonymous, contentKey, sha256, type FileName } from './broker-files.ts';
import { truncate } from './broker-io.ts';
import type { SecurityReport } from './security-report.ts';

export type QuarantineDeps = Readonly<{
  results: Pick<ApplyResults, 'record' | 'liftQuarantine'>;
  clock: Clock;
  security: SecurityReport;
  logger?: ApplyLoopDeps['logger'];
}>;

export type Quarantine = {
  /** The quarantine the current render is held back by (shown in the apply status), or null. */
  current(): QuarantineRow | null;
  set(q: QuarantineRow | null): void;
  renderKey(rendered: ReadonlyMap<FileName, string>): string;
  /** An apply held back because its content is quarantined: nothing written, recorded as failed. */
  heldBack(generation: number, q: QuarantineRow, started: number): ApplyOutcome;
  /** An admin's retry: lifts every quarantine before applying. */
  lift(): void;
};

export const createQuarantine = (deps: QuarantineDeps): Quarantine => {
  const { results, security } = deps;
  let quarantine: QuarantineRow | null = null;
  /** Quarantined contents already reported as held back: one security event per content. */
  const quarantineReported = new Set<string>();

  return {
    current: () => quarantine,
    set: (q) => { quarantine = q; },

    /**
     * The render's content as one sha256: the two files without what only the generation changes,
     * and (supervised) allow_anonymous — not mosquitto.conf's listeners and paths, which follow
     * MCM's configuration rather than the rules (a restart on another port is the same content).
     */
    renderKey: (rendered) => sha256([
      contentKey('password_file', rendered.get('password_file') ?? ''),
      contentKey('acl_file', rendered.get('acl_file') ?? ''),
      String(confAllowsAnonymous(rendered.get('mosquitto_conf'))),
    ].join('\0')),

    heldBack(generation, q, started) {
      const reason = `not applied: ${quarantineMessage(q)}`;
      const latencyMs = performance.now() - started;
      try {
        results.record({ generation, result: 'failed', reason: truncate(reason, 2000), latencyMs, at: deps.clock.now() });
      } catch (e) {
        deps.logger?.error({ err: (e as Error).message, generation }, 'cannot record the quarantined apply');
      }
      if (!quarantineReported.has(q.content_sha256)) {
        quarantineReported.add(q.content_sha256);
        security('apply.quarantined', 'warning', `apply of generation ${generation} held back: ${quarantineMessage(q)}`, { generation, quarantined_generation: q.generation, content_sha256: q.content_sha256 });
      }
      return { generation, result: 'failed', reason, latencyMs, wrote: false, reloaded: false, quarantined: true };
    },

    lift() {
      const n = results.liftQuarantine();
      if (n > 0) {
        security('apply.quarantine_lifted', 'info', `an admin retried the apply: ${n} quarantined configuration${n === 1 ? '' : 's'} may be applied again`, { lifted: n });
        quarantineReported.clear();
      }
      quarantine = null;
    },
  };
};
