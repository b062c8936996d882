/**
 * Faults (issue 8): `<data dir>/mcm.db` locked by another process while `mcm server` runs
 * (bench/reliability/db-locked.ts). Scale from MCM_RELIABILITY_SCALE.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { dbLocked } from '../../bench/reliability/db-locked.ts';
import { scaleFromEnv, type ReliabilityFigures } from '../../bench/reliability/figures.ts';
import { requireMosquitto } from '../helpers/mosquitto.ts';

const row = (f: ReliabilityFigures, prefix: string) => {
  const r = f.rows.find((x) => x.figure.startsWith(prefix));
  assert.ok(r, `figure "${prefix}" is reported`);
  return r;
};

it('a locked database: writes refused with 503 MCM_ERR_STORAGE_BUSY + Retry-After, no crash, no 500, and writes work again once the lock goes', { timeout: 10 * 60_000 }, async (t) => {
  if (!requireMosquitto(t)) return;
  const f = await dbLocked({ scale: scaleFromEnv(), log: (l) => t.diagnostic(l) });
  for (const r of f.rows) t.diagnostic(`${r.ok ? 'ok' : 'FAIL'} ${r.figure}: ${r.value}${r.target ? ` [target ${r.target}]` : ''}`);
  const rounds = JSON.stringify(f.data['rounds']);
  assert.ok(row(f, 'writes while locked refused with 503').ok, `every write under the lock is refused with 503 MCM_ERR_STORAGE_BUSY: ${rounds}`);
  assert.ok(row(f, 'of them with a Retry-After').ok, 'every refusal carries Retry-After');
  assert.equal(row(f, '500 answers while locked').value, 0, `no 500 while locked: ${rounds}`);
  assert.ok(row(f, 'refused write latency').ok, 'a refused write waits about busy_timeout, not longer');
  assert.ok(row(f, 'reads from memory').ok, 'reads go on under the lock');
  assert.ok(row(f, 'read sent while a write waits').ok, 'a read racing a blocked write is answered, within busy_timeout');
  assert.ok(row(f, 'reads of the database file').ok, 'reads of the file answer 200 or the same 503');
  assert.ok(row(f, 'sign-in while locked').ok, 'sign-in answers 200 or 503 MCM_ERR_STORAGE_BUSY');
  assert.equal(row(f, 'rounds where the server stopped').value, 0, 'mcm server keeps running');
  assert.ok(row(f, 'writes after the lock went').ok, `writes work again once the lock goes: ${rounds}`);
  assert.equal(row(f, 'acknowledged writes missing').value, 0, 'no acknowledged write is missing from the log');
  assert.equal(row(f, 'hash chain').value, 'ok', 'the hash chain verifies');
  assert.equal(row(f, '`mcm events verify`').value, 0, `mcm events verify passes: ${String(f.data['events_verify_output'])}`);
  assert.ok(row(f, 'password_file, acl_file').ok, 'the rendered files equal the render of the final state');
  assert.ok(f.pass, f.rows.filter((r) => !r.ok).map((r) => `${r.figure}: ${r.value}`).join('; '));
});
