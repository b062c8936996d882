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
