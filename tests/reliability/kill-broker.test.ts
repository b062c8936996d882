/**
 * Faults (issue 8): the supervised mosquitto SIGKILLed again and again under a running
 * `mcm server` (bench/reliability/kill-broker.ts). Scale from MCM_RELIABILITY_SCALE.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { scaleFromEnv, type ReliabilityFigures } from '../../bench/reliability/figures.ts';
import { killBroker } from '../../bench/reliability/kill-broker.ts';
import { requireMosquitto } from '../helpers/mosquitto.ts';

const row = (f: ReliabilityFigures, prefix: string) => {
  const r = f.rows.find((x) => x.figure.startsWith(prefix));
  assert.ok(r, `figure "${prefix}" is reported`);
  return r;
};

it('SIGKILLs of the broker: the supervisor restarts it, the observer reconnects, writes made meanwhile and after are applied and enforced', { timeout: 15 * 60_000 }, async (t) => {
  if (!requireMosquitto(t)) return;
  const f = await killBroker({ scale: scaleFromEnv(), log: (l) => t.diagnostic(l) });
  for (const r of f.rows) t.diagnostic(`${r.ok ? 'ok' : 'FAIL'} ${r.figure}: ${r.value}${r.target ? ` [target ${r.target}]` : ''}`);
  const kills = f.data['kills'] as { kill: number; problems: string[] }[];
  const problems = kills.filter((k) => k.problems.length > 0).map((k) => `kill ${k.kill}: ${k.problems.join('; ')}`);
  assert.deepEqual(problems, [], 'every kill recovered fully');
  assert.ok(row(f, 'brokers restarted by the supervisor').ok, 'the supervisor restarted the broker after every kill');
  assert.ok(row(f, 'observer reconnections').ok, 'the observer reconnected after every kill (GET /status broker.up)');
  assert.ok(row(f, 'writes made while the broker was down').ok, 'a write made while the broker was down is applied and enforced once it is back');
  assert.ok(row(f, 'writes made after each recovery').ok, 'a write after each recovery is applied and enforced');
  assert.ok(row(f, 'kill → downtime user logs in').ok, `each recovery within the restart backoff + slack: ${JSON.stringify(kills)}`);
  assert.ok(row(f, 'mcm server still running').ok, 'mcm server survives its broker being killed');
  assert.ok(row(f, 'apply-status at the end').ok, 'applied == desired at the end');
  assert.equal(row(f, 'acknowledged writes missing').value, 0, 'no acknowledged write is missing from the log');
  assert.equal(row(f, '`mcm events verify`').value, 0, `mcm events verify passes: ${String(f.data['events_verify_output'])}`);
  assert.ok(row(f, 'password_file, acl_file').ok, 'the rendered files equal the render of the final state');
  assert.ok(row(f, 'brokers left running').ok, 'no broker is left after the clean stop');
  assert.ok(f.pass, f.rows.filter((r) => !r.ok).map((r) => `${r.figure}: ${r.value}`).join('; '));
});
