/**
 * Issue 16, "the apply banner clears when it is no longer news": after a change is enforced the
 * banner says so, then goes away (APPLY_NEWS_MS, 15 s); a failure would stay until someone acts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { APPLY_NEWS_MS } from '../../ui/data/access-apply.ts';
import { startUiWorld } from '../helpers/browser.ts';

describe('apply banner (issue 16)', () => {
  it('says the change is applied, then clears once that is no longer news', async (t) => {
    const w = await startUiWorld(t);
    if (!w) return;
    const page = await w.newPage();
    await w.signIn(page);
    await page.goto(`${w.base}/users`);
    const create = page.locator('mcm-mqtt-users form.create');
    await create.getByLabel('Username').fill('line-9');
    await create.getByLabel('Password').fill('line-9-Pa55word');
    await create.getByRole('button', { name: 'Create user' }).click();
    const banner = page.locator('mcm-mqtt-users access-apply-status .banner');
    await page.locator('mcm-mqtt-users access-apply-status .banner[data-phase="applied"]').waitFor({ timeout: 20_000 });
    assert.match(await banner.innerText(), /line-9/);
    // Generous bound: gone within NEWS_MS plus a margin.
    await banner.waitFor({ state: 'detached', timeout: APPLY_NEWS_MS + 10_000 });
  });
});

describe('notices never cover controls (issue 16)', () => {
  it('a notice sits in the page flow: nothing clickable is under it, at a phone\'s width and a desktop\'s', async (t) => {
    const w = await startUiWorld(t);
    if (!w) return;
    for (const width of [390, 1440]) {
      const page = await w.newPage();
      await page.setViewportSize({ width, height: 800 });
      await w.signIn(page);
      await page.goto(`${w.base}/topics`);
      const form = page.locator('topic-publish form');
      await form.getByLabel('Topic').fill(`plant/line1/cmd-${width}`);
      await form.getByRole('button', { name: 'Publish' }).click();
      const notice = page.locator('mcm-app .notice');
      await notice.waitFor({ timeout: 10_000 });
      assert.match(await notice.innerText(), /Published/);
      // Plain JavaScript in the page: the tests' TypeScript has no DOM types.
      const covered = await page.evaluate(`(() => {
        const n = document.querySelector('mcm-app')?.shadowRoot?.querySelector('.notice');
        if (!n) return ['no notice'];
        const pos = getComputedStyle(n).position;
        if (pos === 'fixed' || pos === 'absolute' || pos === 'sticky') return ['position ' + pos];
        const r = n.getBoundingClientRect();
        const out = [];
        const walk = (root) => {
          for (const el of root.querySelectorAll('*')) {
            if (el.shadowRoot) walk(el.shadowRoot);
            if (!el.matches('button, a[href], input, select, textarea, summary') || n.contains(el)) continue;
            const b = el.getBoundingClientRect();
            if (b.width === 0 || b.height === 0) continue;
            // In the flow nothing shares the notice's box; a floating notice would sit on something.
            if (b.left < r.right && b.right > r.left && b.top < r.bottom && b.bottom > r.top) out.push(el.tagName.toLowerCase() + ' under the notice');
          }
        };
        walk(document);
        return out;
      })()`) as string[];
      assert.deepEqual(covered, [], `${width} px`);
      await page.close();
    }
  });
});
