/**
 * "Does the broker enforce my change yet?" (DESIGN §6, §8). Every write answers with the new
 * state seq in its ETag; GET /apply-status (and the live `apply_status` message) says which
 * generation the broker runs. A generation is the seq of the last event that changed a rendered
 * file, so for a write with seq N:
 *   - applied_seq >= N: the broker runs a generation that includes the change;
 *   - desired_seq < N: the write changed no broker file (a description, a rule for a user that
 *     doesn't exist yet…): nothing to apply;
 *   - the state is failed and the failed attempt covered N: failed, with the reason;
 *   - otherwise pending.
 * Pure: tested under node:test.
 */
export type ApplyResultKind = 'applied' | 'written' | 'failed';

/** A broker file MCM found and did not write (issue 11): it writes nothing until it is imported. */
export type ForeignFile = { file: string; path: string | null; sha256: string };

export type ApplyStatus = {
  desired_seq: number;
  applied_seq: number;
  /** `adoption_required`: the configured password_file/acl_file are not MCM's: nothing is written until they are imported. */
  state: 'applied' | 'pending' | 'failed' | 'adoption_required';
  last: { seq: number; result: ApplyResultKind; latency_ms: number | null; at: string; reason?: string } | null;
  /** `version`: the broker's own (e.g. "2.0.11"), null when not known yet. */
  broker: { mode: string; up: boolean; reload?: string; version?: string | null; backend?: 'files' | 'dynsec' };
  /** Present with state `adoption_required`: the foreign files. */
  adoption?: { files: ForeignFile[] };
};

/** `blocked`: MCM writes nothing to the broker until its foreign files are imported (adoption_required). */
export type ApplyPhase = 'pending' | 'applied' | 'written' | 'failed' | 'unchanged' | 'blocked';

export type ApplyProgress = { phase: ApplyPhase; text: string };

/** `"42"` (or a weak `W/"42"`) → 42; anything else → null. */
export const seqFromEtag = (etag: string | null | undefined): number | null => {
  const m = /^(?:W\/)?"(\d+)"$/.exec((etag ?? '').trim());
  if (!m) return null;
  const n = Number(m[1]);
  return Number.isSafeInteger(n) ? n : null;
};

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);

/** The status of GET /apply-status or of a live `apply_status` message, checked; null when malformed. */
export const parseApplyStatus = (v: unknown): ApplyStatus | null => {
  if (!isObject(v) || !isInt(v['desired_seq']) || !isInt(v['applied_seq'])) return null;
  const state = v['state'];
  if (state !== 'applied' && state !== 'pending' && state !== 'failed' && state !== 'adoption_required') return null;
  const broker = isObject(v['broker']) ? v['broker'] : {};
  const rawLast = v['last'];
  let last: ApplyStatus['last'] = null;
  if (isObject(rawLast) && isInt(rawLast['seq'])) {
    const result = rawLast['result'];
    last = {
      seq: rawLast['seq'],
      result: result === 'applied' || result === 'written' || result === 'failed' ? result : 'failed',
      latency_ms: typeof rawLast['latency_ms'] === 'number' ? rawLast['latency_ms'] : null,
      at: typeof rawLast['at'] === 'string' ? rawLast['at'] : '',
      ...(typeof rawLast['reason'] === 'string' ? { reason: rawLast['reason'] } : {}),
    };
  }
  return {
    desired_seq: v['desired_seq'],
    applied_seq: v['applied_seq'],
    state,
    last,
    broker: {
      mode: typeof broker['mode'] === 'string' ? broker['mode'] : 'unknown',
      up: broker['up'] === true,
      ...(typeof broker['reload'] === 'string' ? { reload: broker['reload'] } : {}),
      ...(typeof broker['version'] === 'string' || broker['version'] === null ? { version: broker['version'] as string | null } : {}),
    },
    ...(state === 'adoption_required' ? { adoption: { files: foreignFiles(v['adoption']) } } : {}),
  };
};

const foreignFiles = (v: unknown): ForeignFile[] => {
  const files = isObject(v) && Array.isArray(v['files']) ? v['files'] : [];
  return files.flatMap((f: unknown) => (isObject(f) && typeof f['file'] === 'string'
    ? [{ file: f['file'], path: typeof f['path'] === 'string' ? f['path'] : null, sha256: typeof f['sha256'] === 'string' ? f['sha256'] : '' }]
    : []));
};

const latency = (ms: number | null | undefined): string =>
  ms === null || ms === undefined ? '' : ms < 1000 ? ` in ${Math.round(ms)} ms` : ` in ${(ms / 1000).toFixed(1)} s`;

/** Where the change made by the write with seq `writeSeq` stands, given the current status. */
export const applyProgress = (writeSeq: number, status: ApplyStatus | null): ApplyProgress => {
  if (status === null) return { phase: 'pending', text: 'saved; waiting for the apply status…' };
  if (status.applied_seq >= writeSeq) {
    const written = status.last !== null && status.last.seq >= writeSeq && status.last.result === 'written';
    if (written) {
      return {
        phase: 'written',
        text: `written to the broker's files (reload strategy "${status.broker.reload ?? 'none'}": the broker reads them at its next reload or restart)`,
      };
    }
    const took = status.last !== null && status.last.seq >= writeSeq ? latency(status.last.latency_ms) : '';
    return { phase: 'applied', text: `applied${took}: the broker enforces it (generation ${status.applied_seq})` };
  }
  if (status.desired_seq < writeSeq) {
    return { phase: 'unchanged', text: 'saved; it changes none of the broker\'s files, so there is nothing to apply' };
  }
  if (status.state === 'adoption_required') {
    return {
      phase: 'blocked',
      text: `saved, not applied: the broker's files were not written by MCM, so MCM writes nothing until an admin imports them (Import screen or \`mcm import\`). The broker keeps running on its own files.`,
    };
  }
  if (status.state === 'failed' && status.last !== null && status.last.seq >= writeSeq) {
    return {
      phase: 'failed',
      text: `failed: ${status.last.reason ?? 'no reason recorded'}. The broker keeps generation ${status.applied_seq} (the last one that applied).`,
    };
  }
  const down = status.broker.up ? '' : ' (the broker is down: the change is applied once it is back)';
  return { phase: 'pending', text: `pending: the broker still runs generation ${status.applied_seq} (desired ${status.desired_seq})${down}` };
};

/** True when nothing more will happen to this write without operator action or a new change. */
export const applySettled = (p: ApplyProgress): boolean => p.phase !== 'pending';

/** The files waiting for an import, or null when MCM owns the broker's files (any other state). */
export const adoptionRequired = (status: ApplyStatus | null): ForeignFile[] | null =>
  (status?.state === 'adoption_required' ? status.adoption?.files ?? [] : null);

/**
 * How long the apply banner shows a success (issue 16: it clears when it is no longer news). A
 * failure stays until the next change or a retry: it needs someone to act.
 */
export const APPLY_NEWS_MS = 15_000;
