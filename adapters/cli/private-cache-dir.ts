/**
 * Where `mcm` keeps Node's compile cache: `$XDG_CACHE_HOME/mcm/node-compile-cache` (or
 * `~/.cache/mcm/…`), made and kept 0700. Never Node's default, the OS temp dir: V8 runs the code
 * a cache entry holds, so a cache directory another account can write to is code that account can
 * make MCM run. A directory that cannot be made private (not ours, no home) means no cache: the
 * start is slower, nothing else. bin/mcm makes the same choice for the bundle.
 */
import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

export const privateCacheDir = (env: NodeJS.ProcessEnv = process.env): string | null => {
  const home = env['HOME'];
  const cacheHome = env['XDG_CACHE_HOME'] || (home ? join(home, '.cache') : '');
  if (cacheHome === '') return null;
  const base = join(cacheHome, 'mcm');
  const dir = join(base, 'node-compile-cache');
  try {
    // One level at a time: mkdirSync's recursive mode never returns under /proc (Node 24).
    for (const d of [cacheHome, base, dir]) {
      try {
        mkdirSync(d, { mode: 0o700 });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
    }
    // Only the owner (or root) may chmod: a directory someone else made fails here.
    chmodSync(base, 0o700);
    chmodSync(dir, 0o700);
    return dir;
  } catch {
    return null;
  }
};
