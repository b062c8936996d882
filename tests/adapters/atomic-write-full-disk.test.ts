/**
 * The atomic writer on a nearly full disk (issue "second hardening round", files): write(2)
 * writes what fits and returns a short count, and only the next call fails with ENOSPC. The
 * writer used to ignore the count: the short temp file was fsynced and renamed over the live
 * file, a truncated password or ACL file (fail-open on reload, reference §3.4). Now it loops
 * until everything is written and checks the bytes (sha256) before the rename, so a full disk
 * leaves the live file as it was and no temp file behind. On a real size-limited tmpfs.
 */
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { writeFileAtomicSync } from '../../adapters/files/atomic-write-sync.ts';
import { mountTmpfs, tmpfsUnavailable, unmount } from '../../bench/reliability/full-disk.ts';

const mountedDir = (t: TestContext): string | null => {
  const why = tmpfsUnavailable();
  if (why) {
    if (process.env['CI'] === 'true') throw new Error(why);
    t.skip(why);
    return null;
  }
  const dir = mkdtempSync(join(tmpdir(), 'mcm-fulldisk-'));
  mountTmpfs(dir, 1);
  // Unmount first, then remove the mount point (one hook: the order matters).
  t.after(() => { unmount(dir); rmSync(dir, { recursive: true, force: true }); });
  return dir;
};

/** Fills the filesystem until only about `leaveBytes` are free (writes in 4 KiB pages). */
const fillLeaving = (path: string, leaveBytes: number): void => {
  const fd = openSync(path, 'w');
  const page = Buffer.alloc(4096, 1);
  try {
    for (;;) {
      try { writeSync(fd, page); } catch { break; }
    }
  } finally {
    closeSync(fd);
  }
  // Give back room for a partial write: truncate the filler by `leaveBytes`.
  const size = readFileSync(path).length;
  writeFileSync(path, Buffer.alloc(Math.max(0, size - leaveBytes), 1));
};

test('given a disk with room for part of the new file, then the write fails and the live file is untouched, with no temp file left', (t) => {
  const dir = mountedDir(t);
  if (!dir) return;
  const target = join(dir, 'passwd');
  const original = 'alice:$7$101$XKm0/ruYS/eOrtlr$inRGfPMzec7uMWnXImeyhIxXW7aCqWkK6swGkFbduAfuxktrNQnfl4PozSrkZVETuXyLXXN79ndKVLAobuKFgw==\n';
  writeFileSync(target, original);
  fillLeaving(join(dir, 'filler'), 64 * 1024);
  const bigger = 'x'.repeat(512 * 1024);
  assert.throws(() => writeFileAtomicSync(target, bigger, 0o640), (e: NodeJS.ErrnoException) => e.code === 'ENOSPC' || e.code === 'EIO');
  assert.equal(readFileSync(target, 'utf8'), original, 'the live file is as it was');
  assert.deepEqual(readdirSync(dir).filter((n) => n.endsWith('.tmp')), [], 'no temp file left behind');
});

test('given room enough, the file is replaced whole', (t) => {
  const dir = mountedDir(t);
  if (!dir) return;
  const target = join(dir, 'acl');
  writeFileSync(target, 'old\n');
  const text = `${'topic read a/b\n'.repeat(10_000)}`;
  writeFileAtomicSync(target, text, 0o640);
  assert.equal(readFileSync(target, 'utf8'), text);
});
