/**
 * adapters/http/ui-static.ts: the built UI is served from the API's origin; the API, health and
 * metrics paths keep their JSON answers; only files listed in assets/ are ever read.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createTestApp } from '../helpers/http.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const built = (dir: string): string => {
  mkdirSync(join(dir, 'assets'), { recursive: true });
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>MCM</title><mcm-app></mcm-app>');
  writeFileSync(join(dir, 'assets', 'app-ABC123.js'), 'console.log(1)');
  writeFileSync(join(dir, 'assets', 'app-ABC123.css'), 'body{}');
  writeFileSync(join(dir, 'secret.txt'), 'not an asset');
  return dir;
};

const HTML = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };

describe('web UI files', () => {
  it('answers index.html (no-cache) for client routes and hashed assets (immutable) with their types', async (t) => {
    const dir = built(tempDir(t));
    const h = await createTestApp(t, { config: (c) => { c.http.ui_dir = dir; } });
    for (const path of ['/', '/users', '/topics/plant%2Fa']) {
      const res = await fetch(`${h.baseUrl}${path}`, { headers: HTML });
      assert.equal(res.status, 200, path);
      assert.equal(res.headers.get('cache-control'), 'no-cache');
      assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
      assert.match(await res.text(), /<mcm-app>/);
      assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    }
    const js = await fetch(`${h.baseUrl}/assets/app-ABC123.js`);
    assert.equal(js.status, 200);
    assert.match(js.headers.get('content-type') ?? '', /^text\/javascript/);
    assert.equal(js.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    const css = await fetch(`${h.baseUrl}/assets/app-ABC123.css`, { method: 'HEAD' });
    assert.equal(css.status, 200);
    assert.match(css.headers.get('content-type') ?? '', /^text\/css/);
  });

  it('never serves a file outside assets/, nor for other methods; API paths keep JSON errors', async (t) => {
    const dir = built(tempDir(t));
    const h = await createTestApp(t, { config: (c) => { c.http.ui_dir = dir; } });
    for (const path of ['/assets/..%2Fsecret.txt', '/assets/../secret.txt', '/assets/%2e%2e/secret.txt', '/assets/nope.js']) {
      const res = await fetch(`${h.baseUrl}${path}`);
      assert.equal(res.status, 404, path);
      assert.doesNotMatch(await res.text(), /not an asset/);
    }
    const post = await fetch(`${h.baseUrl}/users`, { method: 'POST', headers: HTML });
    assert.notEqual(post.status, 200);
    for (const path of ['/api/v1/nope', '/api/nope', '/healthz']) {
      const res = await fetch(`${h.baseUrl}${path}`, { headers: HTML });
      assert.match(res.headers.get('content-type') ?? '', /json/, path);
    }
    // A script asking for JSON (or giving no Accept) gets the API's 404, not the app.
    const json = await fetch(`${h.baseUrl}/users`);
    assert.equal(json.status, 404);
    assert.equal(((await json.json()) as { error: { code: string } }).error.code, 'MCM_ERR_ROUTE_NOT_FOUND');
  });

  it('a UI that was never built answers 503 with how to build it', async (t) => {
    const dir = tempDir(t);
    const h = await createTestApp(t, { config: (c) => { c.http.ui_dir = join(dir, 'missing'); } });
    const res = await fetch(`${h.baseUrl}/`, { headers: HTML });
    assert.equal(res.status, 503);
    const body = (await res.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'MCM_ERR_UI_NOT_BUILT');
    assert.match(body.error.message, /npm run build/);
  });
});
