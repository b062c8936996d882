/** The renderers and the audit view for imported state (issue 11): users without a password, adoption records. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildAclModel } from '../../core/acl-model.ts';
import { renderAclFileFromState } from '../../projections/acl-file.ts';
import { checkAclFile } from '../../projections/acl-file-check.ts';
import { summarize } from '../../projections/audit-log.ts';
import { renderPasswordFile } from '../../projections/password-file.ts';
import { checkPasswordFile } from '../../projections/password-file-check.ts';
import type { EventEnvelope } from '../../core/events.ts';
import { AT, HASH_A, ev, given } from '../helpers/decider-spec.ts';

const SA = { username: 'mcm-service', passwordHash: HASH_A };

describe('given a user imported from an acl_file block alone (passwordHash "")', () => {
  const state = given([ev.userCreated('alice'), ev.userCreated('gw', { passwordHash: '' }), ev.userCreated('idle', { passwordHash: '' }), ev.ruleAdded(1, 'user:gw', 'gw/#', 'read')]).state;

  it('renders no password line for it [ref §1.1]', () => {
    const text = renderPasswordFile(state, { serviceAccount: SA });
    assert.deepEqual(text.split('\n').map((l) => l.slice(0, l.indexOf(':'))), ['alice', 'mcm-service', '']);
    assert.deepEqual(checkPasswordFile(text), []);
  });

  it('keeps its ACL block, an empty one included, so importing the render again finds the user [ref §2.2]', () => {
    const model = buildAclModel(state, { serviceAccount: SA.username, generation: 1 });
    assert.deepEqual([...model.users.keys()], ['gw', 'idle', 'mcm-service']);
    const text = renderAclFileFromState(state, { serviceAccount: SA.username, generation: 1 });
    assert.match(text, /\nuser gw\ntopic read gw\/#\n\nuser idle\n\nuser mcm-service\n/);
    assert.deepEqual(checkAclFile(text), []);
  });
});

describe('audit summary of BrokerFilesAdopted', () => {
  const envelope = (how: 'import' | 'takeover'): EventEnvelope => ({
    type: 'BrokerFilesAdopted',
    data: { how, files: [{ file: 'password_file', sha256: 'a'.repeat(64), path: '/etc/mosquitto/passwd' }, { file: 'acl_file', sha256: 'b'.repeat(64), path: null }] },
    seq: 9, at: AT, stream: 'broker-files', version: 1, actor: { kind: 'import', id: 'files:/etc/mosquitto/passwd' }, prev_hash: '', hash: '',
  });
  it('names the files and how they were adopted', () => {
    assert.equal(summarize(envelope('import')), 'imported broker files: password_file "/etc/mosquitto/passwd", acl_file');
    assert.equal(summarize(envelope('takeover')), 'took over broker files: password_file "/etc/mosquitto/passwd", acl_file');
  });
});
