/**
 * The web UI's shell in a real browser against a real server: sign in, navigate, sign out, an
 * invalid session returns to the login screen, and the server serves the app for client routes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startUiWorld, UI_ADMIN } from '../helpers/browser.ts';

describe('web UI shell', () => {
  it('signs in, shows the navigation for the role, survives a reload on a client route, signs out', async (t) => {
    const w = await startUiWorld(t);
    if (!w) return;
    const page = await w.newPage();
    await page.goto(w.base);
    await page.getByRole('heading', { name: 'Sign in to MCM' }).waitFor();
    await w.screenshot(page, 'login');

    await page.getByLabel('Username').fill(UI_ADMIN.username);
    await page.getByLabel('Password').fill('wrong-password-123');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: /MCM_ERR_/ }).waitFor();

    await w.signIn(page);
    const nav = page.getByRole('navigation', { name: 'Main' });
    for (const label of ['Dashboard', 'Topics', 'MQTT users', 'Access', 'Audit', 'Webhooks', 'Account']) {
      assert.equal(await nav.getByRole('link', { name: label, exact: true }).count(), 1, label);
    }
    await nav.getByRole('link', { name: 'Account', exact: true }).click();
    assert.equal(new URL(page.url()).pathname, '/account');
    await page.reload();
    await page.getByRole('navigation', { name: 'Main' }).waitFor();
    assert.equal(await page.locator('nav a[aria-current="page"]').innerText(), 'Account');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to MCM' }).waitFor();
    assert.match(await page.getByRole('status').innerText(), /signed out/);
  });

  it('a revoked token (password changed elsewhere) brings the login back with the reason', async (t) => {
    const w = await startUiWorld(t);
    if (!w) return;
    const viewer = await w.adminUser('viewer');
    const page = await w.newPage();
    await w.signIn(page, viewer);
    const nav = page.getByRole('navigation', { name: 'Main' });
    // A viewer sees no admin-only pages.
    assert.equal(await nav.getByRole('link', { name: 'Webhooks' }).count(), 0);
    assert.equal(await nav.getByRole('link', { name: 'Audit' }).count(), 0);
    const res = await w.api('PUT', `/admin-users/${viewer}`, { disabled: true });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    // The ws hub closes the socket with 4401 at once; the shell ends the session.
    await page.getByRole('heading', { name: 'Sign in to MCM' }).waitFor({ timeout: 10_000 });
    assert.match(await page.getByRole('status').innerText(), /session ended/);
  });

  it('serves index.html for client routes and hashed assets with long caching; API paths keep JSON 404s', async (t) => {
    const w = await startUiWorld(t);
    if (!w) return;
    const html = await fetch(`${w.base}/topics/plant%2Fline1`, { headers: { accept: 'text/html' } });
    assert.equal(html.status, 200);
    assert.equal(html.headers.get('cache-control'), 'no-cache');
    const text = await html.text();
    const asset = /src="(\/assets\/app-[A-Z0-9]+\.js)"/.exec(text)?.[1];
    assert.ok(asset, text);
    const js = await fetch(`${w.base}${asset}`);
    assert.equal(js.status, 200);
    assert.match(js.headers.get('content-type') ?? '', /javascript/);
    assert.match(js.headers.get('cache-control') ?? '', /immutable/);
    assert.match(js.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    const api = await fetch(`${w.base}/api/v1/nope`, { headers: { accept: 'text/html' } });
    assert.equal(api.status, 404);
    assert.equal((await api.json() as { error: { code: string } }).error.code, 'MCM_ERR_ROUTE_NOT_FOUND');
    const traversal = await fetch(`${w.base}/assets/..%2F..%2Fpackage.json`);
    assert.equal(traversal.status, 404);
  });
});
