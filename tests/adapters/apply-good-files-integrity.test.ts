/**
 * The last-known-good records are covered by an HMAC (issue "second hardening round":
 * integrity). They decide what MCM takes for its own files and what it restores; before, they
 * were trusted by seq and hash alone, so whoever could write the database could make MCM take an
 * edited file for its own. Now an edited record is ignored with a critical security event, the
 * file on disk is foreign (adoption_required: MCM writes nothing over it), and `mcm events
 * verify` names the record.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { openDatabase } from '../../adapters/sqlite/open-database.ts';
import { runMcm } from '../helpers/cli.ts';
import { startTestServer } from '../helpers/mcm-server.ts';
import { requireMosquitto } from '../helpers/mosquitto.ts';

test('given an edited last-known-good record and a matching edited file, then MCM does not take the file for its own', async (t) => {
  const bin = requireMosquitto(t);
  if (!bin) return;
  const first = await startTestServer(t, bin);
  const hash = await first.hash('dev-Pa55word');
  assert.equal((await first.apply({ type: 'CreateMqttUser', data: { username: 'dev', passwordHash: hash } })).result, 'applied');
  await first.stop();

  // An attacker with write access to the data dir: edits the ACL file and the record to match it.
  const aclPath = join(first.dataDir, 'mosquitto', 'acl');
  const edited = `${readFileSync(aclPath, 'utf8')}user dev\ntopic readwrite #\n`;
  writeFileSync(aclPath, edited);
  const db = openDatabase(join(first.dataDir, 'mcm.db'));
  db.prepare("UPDATE last_good_files SET content = ?, sha256 = ? WHERE name = 'acl_file'").run(edited, createHash('sha256').update(edited).digest('hex'));
  db.close();

  const verify = await runMcm(['events', 'verify', '--json'], { cwd: first.dataDir, env: { MCM_DATA_DIR: first.dataDir } });
  assert.equal(verify.code, 1, verify.stdout);
  assert.deepEqual((JSON.parse(verify.stdout) as { good_files: { bad: { name: string }[] } }).good_files.bad.map((b) => b.name), ['acl_file']);

  const second = await startTestServer(t, bin, { dataDir: first.dataDir, config: { mqtt: { port: first.port } } });
  const status = second.applyLoop.status();
  assert.equal(status.state, 'adoption_required', JSON.stringify(status));
  assert.equal(readFileSync(aclPath, 'utf8'), edited, 'MCM wrote nothing over it');
  assert.equal(second.deps.securityLog.count({ category: 'integrity.good_files_rejected' }), 1);
});
