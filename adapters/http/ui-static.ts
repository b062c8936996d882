/**
 * Serves the built web UI (scripts/build-ui.ts → ui/dist) from the same origin as the API, so the
 * CSP can stay `default-src 'self'` and the session token never crosses origins.
 *
 * - `/assets/<name>`: the hashed bundle files, cached for a year as immutable (a new build has new
 *   names). Only names in the directory listing taken at the first request are served: no path
 *   from the URL ever reaches the file system, so `..` and encoded slashes can't escape.
 * - Any other GET/HEAD that accepts HTML and is not an API, health or metrics path: index.html
 *   (the client router's fallback), revalidated on each load (`no-cache`).
 * - A UI that was never built answers 503 with how to build it, instead of a blank page.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type Koa from 'koa';
import { errorBody } from './errors.ts';

export const DEFAULT_UI_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'ui', 'dist');
export const UI_NOT_BUILT = 'MCM_ERR_UI_NOT_BUILT';

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.map': 'application/json; charset=utf-8',
};

/** Paths the UI never answers: the API, health endpoints and metrics keep their own 404s. */
const SERVER_PATH = /^\/(api(\/|$)|healthz$|livez$|readyz$|metrics$)/;

type Loaded = { index: Buffer; assets: Map<string, { body: Buffer; type: string }> } | null;

const load = (dir: string): Loaded => {
  try {
    const index = readFileSync(join(dir, 'index.html'));
    const assets = new Map<string, { body: Buffer; type: string }>();
    for (const name of readdirSync(join(dir, 'assets'))) {
      const path = join(dir, 'assets', name);
      if (!statSync(path).isFile()) continue;
      assets.set(name, { body: readFileSync(path), type: TYPES[extname(name)] ?? 'application/octet-stream' });
    }
    return { index, assets };
  } catch {
    return null;
  }
};

export const uiStatic = (uiDir: string | null): Koa.Middleware => {
  const dir = uiDir === null ? DEFAULT_UI_DIR : resolve(uiDir);
  let loaded: Loaded = null;
  // Loaded once, on first use; a UI built after the server started is picked up on the next
  // request that finds none yet.
  const ui = (): Loaded => (loaded ??= load(dir));
  return async (ctx, next) => {
    if ((ctx.method !== 'GET' && ctx.method !== 'HEAD') || SERVER_PATH.test(ctx.path)) return next();
    if (ctx.path.startsWith('/assets/')) {
      const asset = ui()?.assets.get(ctx.path.slice('/assets/'.length));
      if (!asset) return next();
      ctx.set('Cache-Control', 'public, max-age=31536000, immutable');
      ctx.type = asset.type;
      ctx.body = asset.body;
      return undefined;
    }
    if (!ctx.accepts('html') || ctx.accepts('json', 'html') === 'json') return next();
    const built = ui();
    if (!built) {
      ctx.status = 503;
      ctx.body = errorBody(UI_NOT_BUILT, `the web UI is not built in ${dir}: run \`npm run build\` (the API at /api/v1 works without it)`);
      return undefined;
    }
    ctx.set('Cache-Control', 'no-cache');
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = built.index;
    return undefined;
  };
};
