/**
 * Node's compile cache stays private (adapters/cli/private-cache-dir.ts, bin/mcm): V8 runs what a
 * cache entry holds, so the cache must never be a directory another account can write to, as
 * Node's default (the OS temp dir) is.
 */
import assert from 'node:assert/strict';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { privateCacheDir } from '../../adapters/cli/private-cache-dir.ts';
import { runMcm } from '../helpers/cli.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const mode = (path: string): number => statSync(path).mode & 0o777;

describe('the compile cache directory', () => {
  it('is made 0700 under XDG_CACHE_HOME, else ~/.cache; none without either or where it cannot be made', (t) => {
    const home = tempDir(t);
    const xdg = join(home, 'xdg');
    assert.equal(privateCacheDir({ HOME: home, XDG_CACHE_HOME: xdg }), join(xdg, 'mcm', 'node-compile-cache'));
    assert.equal(privateCacheDir({ HOME: home }), join(home, '.cache', 'mcm', 'node-compile-cache'));
    for (const dir of [join(xdg, 'mcm'), join(xdg, 'mcm', 'node-compile-cache'), join(home, '.cache', 'mcm', 'node-compile-cache')]) assert.equal(mode(dir), 0o700, dir);
    assert.equal(privateCacheDir({}), null);
    writeFileSync(join(home, 'a-file'), '');
    assert.equal(privateCacheDir({ XDG_CACHE_HOME: join(home, 'a-file') }), null, 'under a file: cannot be made');
    assert.equal(privateCacheDir({ XDG_CACHE_HOME: '/proc/mcm-not-here' }), null, 'where it cannot be made');
  });

  it('bin/mcm keeps it in the user\'s private cache directory, not the temp dir', async (t) => {
    const home = tempDir(t);
    // No cache handed down (runMcm's is): bin/mcm picks the directory itself.
    const r = await runMcm(['version'], { cwd: home, env: { HOME: home, NODE_COMPILE_CACHE: '' } });
    assert.equal(r.code, 0, r.stderr);
    const dir = join(home, '.cache', 'mcm', 'node-compile-cache');
    assert.equal(mode(dir), 0o700);
    assert.ok(readdirSync(dir).length > 0, 'the cache was written there');
  });
});
