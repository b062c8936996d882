/**
 * `npm run build` (and `npm run setup`, `npm start`): bundles the `mcm` command — server and CLI —
 * with esbuild into dist/server/mcm.mjs, which bin/mcm runs while it is newer than every source
 * file (else it runs adapters/cli/main.ts, so an edit is never hidden by an old bundle).
 *
 * Why (issue 14): Node resolved, read and linked some 550 modules at each start (about 200 ms of
 * a 0.7 s start on 1,000,000 events); one file is read and compiled (and kept by the compile
 * cache) in one piece. The packages MCM loads on first use (adapters/modules/lazy-module.ts) stay
 * outside, and so does bcrypt (a native addon): both are required from node_modules at run time.
 *
 * The bundle sits two directories below the project root, as the sources it replaces do
 * (adapters/<dir>/<file>.ts), so the paths they resolve from their own location — docs/openapi.yaml,
 * ui/dist, the project files — hold for it too. The log reader's worker is a second entry.
 *
 *   node scripts/build-server.ts [--out DIR] [--quiet]
 */
import { mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const DEFAULT_SERVER_OUT = join(ROOT, 'dist', 'server');
export const SERVER_BUNDLE = 'mcm.mjs';

/** Native, or loaded on first use by name (lazy-module.ts): never inlined. */
const EXTERNAL = ['bcrypt'];

export const buildServer = async (outDir = DEFAULT_SERVER_OUT): Promise<{ outDir: string; bytes: number }> => {
  // Built next to the target and renamed over it: bin/mcm never sees half a bundle.
  const tmp = `${outDir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    await build({
      entryPoints: {
        mcm: join(ROOT, 'adapters', 'cli', 'main.ts'),
        'log-reader-worker': join(ROOT, 'adapters', 'sqlite', 'log-reader-worker.ts'),
      },
      outdir: tmp,
      outExtension: { '.js': '.mjs' },
      bundle: true,
      platform: 'node',
      target: 'node22',
      format: 'esm',
      external: EXTERNAL,
      // CommonJS packages inside an ES module bundle still call require (for node: built-ins).
      banner: { js: "import { createRequire as __mcmCreateRequire } from 'node:module'; const require = __mcmCreateRequire(import.meta.url);" },
      sourcemap: 'linked',
      legalComments: 'linked',
      // Whitespace and syntax only: names stay as written, for stack traces and logs (about
      // 10 ms off each start: 3.3 → 2.1 MiB to read and compile).
      minifyWhitespace: true,
      minifySyntax: true,
      logLevel: 'error',
    });
    rmSync(outDir, { recursive: true, force: true });
    mkdirSync(dirname(outDir), { recursive: true });
    renameSync(tmp, outDir);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  return { outDir, bytes: statSync(join(outDir, SERVER_BUNDLE)).size };
};

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const at = args.indexOf('--out');
  const out = at >= 0 && args[at + 1] !== undefined ? resolve(args[at + 1] as string) : DEFAULT_SERVER_OUT;
  const { outDir, bytes } = await buildServer(out);
  if (!args.includes('--quiet')) console.log(`built ${join(outDir, SERVER_BUNDLE)} (${(bytes / 2 ** 20).toFixed(1)} MiB)`);
}
