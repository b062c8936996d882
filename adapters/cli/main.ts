/**
 * The `mcm` process (bin/mcm, `npm start`): turns on Node's compile cache before anything else
 * is loaded, then runs the command line (./run-cli.ts). Every start strips the types of some 300
 * TypeScript modules and compiles them; the cache keeps both, which takes ~0.5 s off each `mcm`
 * command and the server's start (issue 14). The cache lives in Node's default place (the OS
 * temp dir, or NODE_COMPILE_CACHE); Node checks each entry against the file's content, and a
 * cache it cannot write only makes the start slower.
 */
import { enableCompileCache } from 'node:module';

enableCompileCache();
const { runMain } = await import('./run-cli.ts');
process.exitCode = await runMain();
