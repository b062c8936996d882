/**
 * Faults (issue 8): `mcm server` SIGKILLed at random moments under HTTP write load and started
 * again on the same data dir (bench/reliability/kill-mcm.ts). Scale from MCM_RELIABILITY_SCALE.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { scaleFromEnv, type ReliabilityFigures } from '../../bench/reliability/figures.ts';
import { killMcm } from '../../bench/reliability/kill-mcm.ts';
import { requireMosquitto } from '../helpers/mosquitto.ts';

const row = (f: ReliabilityFigures, prefix: string) => {
  const r = f.rows.find((x) => x.figure.startsWith(prefix));
  assert.ok(r, `figure "${prefix}" is reported`);
  return r;
};

it('SIGKILLs of mcm server under write load: no acknowledged write lost, chain intact, files converge, broker enforces', { timeout: 15 * 60_000 }, async (t) => {
  if (!requireMosquitto(t)) return;
  const f = await killMcm({ scale: scaleFromEnv(), log: (l) => t.diagnostic(l) });
  for (const r of f.rows) t.diagnostic(`${r.ok ? 'ok' : 'FAIL'} ${r.figure}: ${r.value}${r.target ? ` [target ${r.target}]` : ''}`);
  t.diagnostic(`seed ${String(f.data['seed'])}; leftover temp files ${JSON.stringify(f.data['leftover_temp_files'])}; restart ms ${JSON.stringify(f.data['restart_ms'])}`);
  const lost = row(f, 'acknowledged writes missing');
  assert.equal(lost.value, 0, `acknowledged writes missing from the log: ${JSON.stringify(f.data['lost'])}`);
  assert.ok(row(f, 'acknowledged writes').ok, 'the writers got writes acknowledged between the kills');
  assert.equal(row(f, 'hash chain').value, 'ok', 'the hash chain verifies after the kills');
  assert.equal(row(f, '`mcm events verify`').value, 0, `mcm events verify passes: ${String(f.data['events_verify_output'])}`);
  assert.ok(row(f, 'apply-status').ok, `apply-status reaches applied == desired: ${JSON.stringify(f.data['apply_status'])}`);
  assert.ok(row(f, 'password_file, acl_file').ok, 'the rendered files equal the render of the final state');
  assert.ok(row(f, 'MQTT users enforced').ok, `the broker enforces every acknowledged write: ${JSON.stringify(f.data['enforcement_failures'])}`);
  assert.ok(row(f, 'unexpected HTTP answers').ok, `no write got an error answer: ${JSON.stringify(f.data['unexpected'])}`);
  assert.ok(row(f, 'restarts with a stale broker').ok, `the restarted server stops the killed server's broker: ${JSON.stringify(f.data['stale_brokers'])}`);
  assert.ok(row(f, 'clean stop').ok, 'the last server stops cleanly on SIGTERM');
  assert.ok(row(f, 'brokers left running').ok, 'no broker is left after the clean stop');
  assert.ok(row(f, 'restart to ready').ok, `restarts are ready in time: ${JSON.stringify(f.data['restart_ms'])}`);
  assert.ok(row(f, '"changed outside MCM"').ok, `no false drift report after a crash: ${JSON.stringify(f.data['drift_reports'])}`);
  assert.ok(row(f, 'temp files left').ok, `no temp file of an interrupted write is left: ${JSON.stringify(f.data['leftover_temp_files'])}`);
  assert.ok(f.pass, f.rows.filter((r) => !r.ok).map((r) => `${r.figure}: ${r.value}`).join('; '));
});
