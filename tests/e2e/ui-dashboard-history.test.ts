/**
 * Issue 16, the dashboard: its rate charts are filled on load from the server's history of the
 * broker's counters (GET /status?history_s, the last 15 minutes in memory), instead of staying
 * empty until two `$SYS` updates (10 s apart) have arrived over the live stream.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startUiWorld } from '../helpers/browser.ts';

describe('dashboard charts and figures on load (issue 16)', () => {
  it('shows rates at once when the server has a history, before any live $SYS update', async (t) => {
    const w = await startUiWorld(t);
    if (!w) return;
    // Generous bound: Mosquitto publishes $SYS every 10 s; three samples make two rates.
    const deadline = Date.now() + 60_000;
    for (;;) {
      const st = await w.api('GET', '/status?history_s=900');
      const history = (st.body['stats']?.['history'] ?? []) as { values: Record<string, number> }[];
      if (history.filter((h) => typeof h.values['bytes/received'] === 'number').length >= 3) break;
      if (Date.now() > deadline) throw new Error(`no $SYS history after 60 s: ${JSON.stringify(st.body['stats'])}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    // bypassCSP: waitForFunction evaluates its check as a string, which the app's CSP refuses.
    const context = await w.browser.newContext({ viewport: { width: 1280, height: 860 }, bypassCSP: true });
    t.after(() => context.close());
    const page = await context.newPage();
    const loaded = page.waitForResponse((r) => r.url().includes('/api/v1/status?history_s=900'));
    await w.signIn(page); // lands on the dashboard, which asks for the history
    await loaded;
    // Within 3 s of that answer: a live point needs two $SYS updates, 10 s apart.
    await page.waitForFunction(`(() => {
      const d = document.querySelector('mcm-app').shadowRoot.querySelector('mcm-dashboard');
      const charts = d ? [...d.shadowRoot.querySelectorAll('dashboard-rate-chart')] : [];
      return charts.length === 2 && charts.every((c) => !/no data yet/.test(c.getAttribute('summary') || 'no data yet'));
    })()`, undefined, { timeout: 3000 });
    // One legend per chart: the card's line of current values, not uPlot's table as well.
    assert.equal(await page.locator('mcm-dashboard .u-legend').count(), 0);
    assert.equal(await page.locator('mcm-dashboard p.latest').count(), 2);
    // The broker's own figures, each from $SYS with its meaning on hover: the observer's
    // subscriptions ($SYS/#, #) count, so there is at least one.
    const subs = page.locator('mcm-dashboard dd[data-sys="subscriptions/count"]');
    assert.match(await subs.innerText(), /^\d[\d,]*$/);
    assert.match(await subs.getAttribute('title') ?? '', /^\$SYS\/broker\/subscriptions\/count: /);
    for (const key of ['clients/connected', 'retained messages/count', 'store/messages/count', 'publish/messages/dropped']) {
      assert.equal(await page.locator(`mcm-dashboard dd[data-sys="${key}"]`).count(), 1, key);
    }
  });
});
