/**
 * Hostile input over HTTP (issue 8): every route of the router, fuzzed with fast-check through
 * the real app (bench/reliability/fuzz-api.ts). >= 10,000 cases at full scale, 2,500 with
 * MCM_RELIABILITY_SCALE=ci. A failure names the seed: MCM_FUZZ_SEED=<seed> replays the same
 * requests in the same order.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { scaleFromEnv } from '../../bench/reliability/figures.ts';
import { FUZZ_CASES, fuzzApi, type FuzzFailure } from '../../bench/reliability/fuzz-api.ts';

describe('API fuzzing (every route: body, path parameters, query, headers, credentials)', () => {
  it('never answers 5xx or not at all, and no refused request changes the event log or the state', async (t) => {
    const scale = scaleFromEnv();
    const f = await fuzzApi({ scale, log: (line) => t.diagnostic(line) });
    for (const r of f.rows) t.diagnostic(`${r.ok ? 'ok  ' : 'FAIL'} ${r.figure}: ${r.value}${r.target ? ` (target ${r.target})` : ''}`);
    const counts = f.data['counts'] as Record<string, number>;
    const failures = f.data['failures'] as FuzzFailure[];
    const replay = `replay with ${String(f.data['replay'])}`;
    const show = (kind: string): string => failures.filter((x) => x.kind.startsWith(kind)).slice(0, 5)
      .map((x) => `\n  #${x.index} ${x.status ?? '-'} ${x.request}\n    -> ${x.answer}`).join('');

    assert.ok((counts['cases'] ?? 0) >= FUZZ_CASES[scale], `only ${counts['cases']} cases ran (${replay})`);
    assert.deepEqual(f.data['uncovered_routes'], [], `routes no case reached the handler of (${replay})`);
    assert.equal(counts['fiveXx'], 0, `5xx answers (${replay}):${show('5xx')}`);
    assert.equal(counts['noAnswer'], 0, `requests without an answer (${replay}):${show('no answer')}`);
    assert.equal(counts['stateChanges'], 0, `refused requests that changed state (${replay}):${show('state changed by a refused')}`);
    assert.equal(counts['readChanges'], 0, `reads that changed state (${replay}):${show('state changed by a')}`);
    assert.equal(counts['noCode'], 0, `4xx without an MCM_ERR code (${replay}):${show('4xx without')}`);
    assert.deepEqual(f.data['crashes'], [], `uncaught exceptions or unhandled rejections (${replay})`);
    assert.ok(f.pass, `failed figures: ${f.rows.filter((r) => !r.ok).map((r) => `${r.figure} = ${r.value}`).join('; ')} (${replay})`);
  });
});
