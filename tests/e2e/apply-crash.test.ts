/**
 * MCM killed with SIGKILL in the middle of a burst of appends, then started again on the same
 * data dir: no acknowledged event is lost, the hash chain verifies, the broker files converge to
 * the log, and the broker enforces them (DESIGN §4, §6: "a crash anywhere before the checkpoint
 * means the next start applies again — harmless").
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { stopOrphan } from '../../adapters/mosquitto/supervisor.ts';
import { renderAclFileFromState, stripGenerationLine } from '../../projections/acl-file.ts';
import { renderPasswordFile } from '../../projections/password-file.ts';
import { stripPasswordMarker } from '../../adapters/apply/broker-files.ts';
import { requireMosquitto } from '../helpers/mosquitto.ts';
import { startTestServer, testConfig, testDataDir } from '../helpers/mcm-server.ts';
import { login } from '../helpers/mqtt-client.ts';

const CHILD = fileURLToPath(new URL('../helpers/apply-burst-child.ts', import.meta.url));

it('SIGKILL during a burst of appends: restart loses no acknowledged event and converges the broker files', async (t) => {
  const bin = requireMosquitto(t);
  if (!bin) return;
  const dataDir = testDataDir(t);
  const config = await testConfig(bin, dataDir);
  const brokerDir = join(dataDir, 'mosquitto');
  // The killed MCM leaves its broker running; the restarted server stops it, and so does this.
  t.after(() => stopOrphan(join(brokerDir, 'supervised.pid'), join(brokerDir, 'mosquitto.conf')));

  const child = spawn(process.execPath, [CHILD, JSON.stringify(config), '100000'], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => { if (child.exitCode === null) child.kill('SIGKILL'); });
  const acked: number[] = [];
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
  await new Promise<void>((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`child too slow; acked ${acked.length}\n${stderr}`)), 20_000);
    child.stdout.on('data', (b: Buffer) => {
      buf += b.toString();
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      for (const l of lines) {
        const m = /^ACK (\d+)$/.exec(l);
        if (m) acked.push(Number(m[1]));
      }
      // Kill mid-burst, once applies have had a chance to interleave with appends.
      if (acked.length >= 400 && child.exitCode === null) {
        clearTimeout(timer);
        child.kill('SIGKILL');
        resolve();
      }
    });
    child.once('exit', (code) => { clearTimeout(timer); if (acked.length < 400) reject(new Error(`child exited ${code}: ${stderr}`)); });
  });
  await new Promise<void>((r) => (child.exitCode !== null || child.signalCode !== null ? r() : child.once('exit', () => r())));
  assert.equal(child.signalCode, 'SIGKILL');

  const s = await startTestServer(t, bin, { dataDir, config: { mqtt: { port: config.mqtt.port } } });
  const seqs = new Set(s.store.read().map((e) => e.seq));
  const lost = acked.filter((seq) => !seqs.has(seq));
  assert.deepEqual(lost, [], 'every acknowledged seq is in the log');
  assert.equal(s.store.verify().ok, true, 'the hash chain verifies');

  const state = s.store.state();
  assert.equal(s.applyLoop.status().state, 'applied');
  assert.equal(s.applyLoop.status().applied_seq, state.generation);
  const sa = s.deps.serviceAccount;
  assert.equal(stripPasswordMarker(readFileSync(join(brokerDir, 'passwd'), 'utf8')), renderPasswordFile(state, { serviceAccount: sa }));
  assert.equal(
    stripGenerationLine(readFileSync(join(brokerDir, 'acl'), 'utf8')),
    stripGenerationLine(renderAclFileFromState(state, { serviceAccount: sa.username, generation: state.generation })),
  );
  const lastUser = `crash-${acked.length - 1}`;
  assert.ok(state.users[lastUser], 'the last acknowledged user is in the state');
  assert.ok((await login(t, s.port, lastUser, 'burst-pw')).ok, 'the broker enforces the converged files');
  assert.equal((await login(t, s.port, lastUser, 'wrong')).ok, false);
});
