/**
 * Hostile MQTT traffic through a real mosquitto to a running MCM (issue 8,
 * bench/reliability/hostile-mqtt.ts): Sparkplug garbage, binary payloads, schema violations,
 * topics at the broker's limits, protocol-breaking raw connections. The observer keeps its
 * connection, sees a later good message and counts exactly what it could not read.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { scaleFromEnv } from '../../bench/reliability/figures.ts';
import { hostileMqtt } from '../../bench/reliability/hostile-mqtt.ts';
import { requireMosquitto } from '../helpers/mosquitto.ts';

const row = (f: { rows: { figure: string; value: string | number; target?: string; ok: boolean }[] }, prefix: string) => {
  const r = f.rows.find((x) => x.figure.startsWith(prefix));
  assert.ok(r, `no figure "${prefix}"`);
  return r;
};

describe('hostile MQTT traffic (real mosquitto, whole server)', () => {
  it('keeps the observer connected and counting: decode errors, invalid topics and schema violations exactly as sent', async (t) => {
    if (!requireMosquitto(t)) return;
    const f = await hostileMqtt({ scale: scaleFromEnv(), log: (line) => t.diagnostic(line) });
    for (const r of f.rows) t.diagnostic(`${r.ok ? 'ok  ' : 'FAIL'} ${r.figure}: ${r.value}${r.target ? ` (target ${r.target})` : ''}`);
    const seed = `seed ${String(f.data['seed'])} (MCM_FUZZ_SEED replays it)`;
    for (const prefix of ['observer sees a good message', 'observer connected afterwards', 'observer reconnects', 'processor failures',
      'Sparkplug decode errors counted', 'invalid Sparkplug topics counted', 'JSON schema violations counted', '/metrics mcm_observer_malformed_messages_total',
      'protocol-breaking connections the broker closed', 'supervised broker never restarted', 'API answers afterwards']) {
      const r = row(f, prefix);
      assert.ok(r.ok, `${r.figure}: ${r.value}, expected ${r.target} — ${seed}${prefix.startsWith('protocol') ? ` ${JSON.stringify(f.data['raw'])}` : ''}`);
    }
    assert.ok(f.pass, `failed figures: ${f.rows.filter((r) => !r.ok).map((r) => `${r.figure} = ${r.value}`).join('; ')} — ${seed}`);
  });
});
