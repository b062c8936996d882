/**
 * ETag / If-Match (DESIGN §4, §8): the ETag of every read and write is the state seq, `"<seq>"`.
 * A write may send `If-Match: "<seq>"` — the seq it decided on — which becomes `expectedSeq` for
 * handleCommand; the core answers MCM_ERR_STALE_STREAM (412) only when the target stream has a
 * newer event.
 */
import type { Context } from 'koa';
import { DomainError, ERROR_CODES } from '../../core/errors.ts';

export const setEtag = (ctx: Context, seq: number): void => {
  ctx.set('ETag', `"${seq}"`);
};

/**
 * The seq in `If-Match`, or undefined when absent or `*` (any state). Accepts `"12"`, `W/"12"`
 * and a bare `12`; a list (`"3", "4"`) or anything else is 400 — guessing which seq the client
 * meant would defeat the check.
 */
export const ifMatch = (ctx: Context): number | undefined => {
  const raw = ctx.get('If-Match').trim();
  if (raw === '' || raw === '*') return undefined;
  const m = /^(?:W\/)?"?(\d{1,15})"?$/.exec(raw);
  if (!m || (raw.endsWith('"') !== /^(?:W\/)?"/.test(raw))) {
    throw new DomainError(ERROR_CODES.VALIDATION, 'If-Match must be a single ETag of the form "<seq>"', [
      { field: 'If-Match', value: raw.slice(0, 100) },
    ]);
  }
  return Number(m[1]);
};
