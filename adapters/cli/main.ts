/**
 * The `mcm` process (bin/mcm, `npm start`): turns on Node's compile cache before anything else
 * is loaded, then runs the command line (./run-cli.ts). Every start strips the types of some 300
 * TypeScript modules and compiles them; the cache keeps both, which takes ~0.5 s off each `mcm`
 * command and the server's start (issue 14). The cache is in a directory only this user can write
 * (./private-cache-dir.ts; bin/mcm sets NODE_COMPILE_CACHE to it), never the shared temp dir;
 * Node checks each entry against the file's content, and a cache it cannot write only makes the
 * start slower.
 */
import { enableCompileCache } from 'node:module';
import { privateCacheDir } from './private-cache-dir.ts';

// NODE_COMPILE_CACHE set (by bin/mcm, or the operator): Node turned the cache on already.
if (!process.env['NODE_COMPILE_CACHE'] && process.env['NODE_DISABLE_COMPILE_CACHE'] !== '1') {
  const dir = privateCacheDir();
  if (dir !== null) enableCompileCache(dir);
}
const { runMain } = await import('./run-cli.ts');
process.exitCode = await runMain();
