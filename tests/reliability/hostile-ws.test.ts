/**
 * Hostile clients on the ws endpoint of a running MCM (issue 8, bench/reliability/hostile-ws.ts):
 * garbage and oversized frames are closed with the RFC 6455 code the hub documents (1002, 1003,
 * 1007, 1009), JSON that is no request gets an error message, garbage upgrades get a 4xx; another
 * client keeps receiving and HTTP keeps answering.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { scaleFromEnv } from '../../bench/reliability/figures.ts';
import { hostileWs } from '../../bench/reliability/hostile-ws.ts';
import { requireMosquitto } from '../helpers/mosquitto.ts';

describe('hostile ws clients (whole server)', () => {
  it('closes garbage with the documented codes, refuses garbage upgrades, and leaves the other clients and HTTP unaffected', async (t) => {
    if (!requireMosquitto(t)) return;
    const f = await hostileWs({ scale: scaleFromEnv(), log: (line) => t.diagnostic(line) });
    for (const r of f.rows) t.diagnostic(`${r.ok ? 'ok  ' : 'FAIL'} ${r.figure}: ${r.value}${r.target ? ` (target ${r.target})` : ''}`);
    const seed = `seed ${String(f.data['seed'])} (MCM_FUZZ_SEED replays it)`;
    const named = f.data['named'] as { name: string; ok: boolean }[];
    const upgrades = f.data['upgrades'] as { name: string; ok: boolean }[];
    assert.deepEqual(named.filter((n) => !n.ok), [], `frame cases not answered as documented — ${seed}`);
    assert.deepEqual(upgrades.filter((u) => !u.ok), [], `upgrade requests not refused as expected — ${seed}`);
    assert.ok(f.pass, `failed figures: ${f.rows.filter((r) => !r.ok).map((r) => `${r.figure} = ${r.value}`).join('; ')} — ${seed}`);
  });
});
