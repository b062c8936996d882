/**
 * `npm run build`: bundles the web UI (ui/main.ts, Lit + uPlot + qrcode) with esbuild into
 * ui/dist/: `assets/app-<hash>.js`, `assets/app-<hash>.css` and an index.html naming them. Hashed
 * names let the server cache assets forever while index.html is revalidated (adapters/http/ui-static.ts).
 * Prints each file's size and the gzip total; the target for the whole app is <= 150 KB gzip.
 *
 *   node scripts/build-ui.ts [--out DIR] [--quiet]
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const DEFAULT_UI_OUT = join(ROOT, 'ui', 'dist');
export const GZIP_TARGET_BYTES = 150 * 1024;

export type UiBuild = { outDir: string; files: { name: string; bytes: number; gzipBytes: number }[]; gzipTotal: number };

/** A small mark so browsers don't ask for /favicon.ico (a 404 on every page load). */
const FAVICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="#2f5fd0"/><path d="M7 23V9h3l6 8 6-8h3v14h-3V14l-6 8-6-8v9z" fill="#fff"/></svg>\n`;

const indexHtml = (js: string, css: string, icon: string): string => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>MCM — Mosquitto Control Manager</title>
<link rel="icon" type="image/svg+xml" href="/assets/${icon}">
<link rel="stylesheet" href="/assets/${css}">
<script type="module" src="/assets/${js}"></script>
</head>
<body>
<mcm-app></mcm-app>
<noscript>MCM's web UI needs JavaScript. The REST API, the CLI (bin/mcm) and GitOps files work without it.</noscript>
</body>
</html>
`;

/** Builds into a fresh temp dir next to `outDir` and swaps it in, so a running server never sees half a build. */
export const buildUi = async (outDir: string = DEFAULT_UI_OUT): Promise<UiBuild> => {
  const tmp = `${outDir}.tmp-${process.pid}-${Date.now()}`;
  rmSync(tmp, { recursive: true, force: true });
  const result = await build({
    entryPoints: { app: join(ROOT, 'ui', 'main.ts') },
    bundle: true,
    format: 'esm',
    target: 'es2022',
    minify: true,
    sourcemap: false,
    legalComments: 'none',
    entryNames: '[name]-[hash]',
    outdir: join(tmp, 'assets'),
    metafile: true,
    logLevel: 'silent',
  });
  const outputs = Object.keys(result.metafile.outputs).map((p) => basename(p));
  const js = outputs.find((n) => n.endsWith('.js'));
  const css = outputs.find((n) => n.endsWith('.css'));
  if (!js || !css) throw new Error(`esbuild produced ${outputs.join(', ')}: expected one .js and one .css`);
  const icon = `favicon-${createHash('sha256').update(FAVICON).digest('hex').slice(0, 8)}.svg`;
  writeFileSync(join(tmp, 'assets', icon), FAVICON);
  writeFileSync(join(tmp, 'index.html'), indexHtml(js, css, icon));
  const files = ['index.html', `assets/${js}`, `assets/${css}`, `assets/${icon}`].map((name) => {
    const bytes = readFileSync(join(tmp, name));
    return { name, bytes: bytes.length, gzipBytes: gzipSync(bytes, { level: 9 }).length };
  });
  mkdirSync(dirname(outDir), { recursive: true });
  const old = `${outDir}.old-${process.pid}-${Date.now()}`;
  try { renameSync(outDir, old); } catch { /* first build */ }
  renameSync(tmp, outDir);
  rmSync(old, { recursive: true, force: true });
  return { outDir, files, gzipTotal: files.reduce((s, f) => s + f.gzipBytes, 0) };
};

const kb = (n: number): string => `${(n / 1024).toFixed(1)} KB`;

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const outIdx = args.indexOf('--out');
  const out = outIdx >= 0 && args[outIdx + 1] ? resolve(args[outIdx + 1]!) : DEFAULT_UI_OUT;
  const res = await buildUi(out);
  if (!args.includes('--quiet')) {
    for (const f of res.files) process.stdout.write(`${f.name.padEnd(32)} ${kb(f.bytes).padStart(10)}  gzip ${kb(f.gzipBytes).padStart(9)}\n`);
  }
  const within = res.gzipTotal <= GZIP_TARGET_BYTES;
  process.stdout.write(`ui bundle: ${kb(res.gzipTotal)} gzip in ${res.outDir} (target <= ${kb(GZIP_TARGET_BYTES)}${within ? '' : ', MISSED'})\n`);
  if (!within) process.exitCode = 1;
}
