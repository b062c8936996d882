/**
 * The write intent (adapters/apply/write-intent.ts): what MCM is about to write to the broker
 * files, kept across a crash so its own unconfirmed writes are never reported as drift.
 */
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createWriteIntent } from '../../adapters/apply/write-intent.ts';
import { tempDir } from '../helpers/temp-dir.ts';

describe('write intent', () => {
  it('knows what was recorded per file name, survives a restart, and keeps the last four writes of each file', (t) => {
    const file = join(tempDir(t), 'apply-intent.json');
    const a = createWriteIntent(file);
    for (let i = 1; i <= 5; i++) a.add(new Map([['password_file', `users v${i}\n`], ['acl_file', `acl v${i}\n`]]));
    const b = createWriteIntent(file); // the next start
    assert.equal(b.isOwn('password_file', 'users v5\n'), true);
    assert.equal(b.isOwn('password_file', 'users v2\n'), true);
    assert.equal(b.isOwn('password_file', 'users v1\n'), false, 'only the last four');
    assert.equal(b.isOwn('acl_file', 'users v5\n'), false, 'per file');
    assert.equal(b.isOwn('password_file', 'edited by hand\n'), false);
  });

  it('starts empty on a missing or unreadable record, and removes the temp file a crash left', (t) => {
    const dir = tempDir(t);
    const file = join(dir, 'apply-intent.json');
    writeFileSync(file, 'not json');
    writeFileSync(`${file}.tmp`, '{"files":');
    const w = createWriteIntent(file);
    assert.equal(existsSync(`${file}.tmp`), false);
    assert.equal(w.isOwn('acl_file', 'x'), false);
    w.add(new Map([['acl_file', 'x']]));
    assert.equal(createWriteIntent(file).isOwn('acl_file', 'x'), true);
    assert.equal(createWriteIntent(null).isOwn('acl_file', 'x'), false, 'in memory only');
  });
});
