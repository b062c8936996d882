/**
 * The drift watch's stat poll (adapters/files/poll-files.ts): it reports what an inotify watch can
 * lose — an edit in place, a file renamed over, a removal — and stays quiet otherwise.
 */
import assert from 'node:assert/strict';
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { pollFiles } from '../../adapters/files/poll-files.ts';
import { tempDir } from '../helpers/temp-dir.ts';

/** Resolves with the next reported path; a generous bound only against a hang. */
const nextReport = (reports: string[], from: number): Promise<string> => new Promise((resolve, reject) => {
  const end = Date.now() + 10_000;
  const look = (): void => {
    if (reports.length > from) resolve(reports[from]!);
    else if (Date.now() > end) reject(new Error('no report'));
    else setTimeout(look, 5);
  };
  look();
});

/** Two files under a poll of 10 ms, and what it reported. */
const polled = (t: TestContext) => {
  const dir = tempDir(t);
  const acl = join(dir, 'acl');
  const other = join(dir, 'passwd');
  writeFileSync(acl, 'user a\n');
  writeFileSync(other, 'a:x\n');
  const reports: string[] = [];
  const poll = pollFiles([acl, other], 10, (p) => reports.push(p));
  t.after(() => poll.close());
  return { dir, acl, other, reports, poll };
};

describe('the drift watch\'s stat poll', () => {
  it('reports an edit in place, a rename over the file and a removal, once each', async (t) => {
    const { dir, acl, other, reports } = polled(t);

    writeFileSync(acl, 'user b\n'); // same size, in place
    assert.equal(await nextReport(reports, 0), acl);
    writeFileSync(join(dir, 'acl.new'), 'user c\n');
    renameSync(join(dir, 'acl.new'), acl);
    assert.equal(await nextReport(reports, 1), acl);
    rmSync(acl);
    assert.equal(await nextReport(reports, 2), acl);
    // An ordering barrier: a change to the other file is reported after anything still pending.
    writeFileSync(other, 'a:y\n');
    assert.equal(await nextReport(reports, 3), other);
    assert.deepEqual(reports, [acl, acl, acl, other], 'nothing reported twice, nothing unchanged reported');
  });

  it('a change an event already reported (saw) is not reported again', async (t) => {
    const { acl, other, reports, poll } = polled(t);
    writeFileSync(acl, 'user b\n');
    poll.saw(acl);
    writeFileSync(other, 'a:y\n');
    assert.equal(await nextReport(reports, 0), other);
    assert.deepEqual(reports, [other]);
  });
});
