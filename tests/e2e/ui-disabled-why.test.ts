/**
 * Issue 16, "every disabled control says why": a disabled button carries its reason next to it,
 * tied with aria-describedby, so a screen reader reads it with the button. The two examples the
 * issue names: "Create role" with an empty rule row, and "Publish" with a wildcard topic.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import { UI_ROUTES } from '../../ui/app/routes.ts';
import { startUiWorld } from '../helpers/browser.ts';

/**
 * Every disabled control on the page (open shadow roots included) with the reason it gives: the
 * text of what its aria-describedby names (in its own root), else its title; '' when none.
 * Plain JavaScript in the page: the tests' TypeScript has no DOM types.
 */
const disabledWithoutReason = (page: Page): Promise<string[]> => page.evaluate(`(() => {
  const out = [];
  const walk = (root) => {
    for (const el of root.querySelectorAll('*')) {
      if (el.shadowRoot) walk(el.shadowRoot);
      if (!el.matches('button:disabled, input:disabled, select:disabled, textarea:disabled')) continue;
      const ids = (el.getAttribute('aria-describedby') ?? '').split(/\\s+/).filter(Boolean);
      const described = ids.map((id) => root.getElementById(id)?.textContent?.trim() ?? '').join(' ').trim();
      const reason = described || (el.getAttribute('title') ?? '').trim();
      if (reason === '') out.push(el.tagName.toLowerCase() + ' "' + ((el.textContent ?? '').trim().slice(0, 40) || el.getAttribute('aria-label') || el.getAttribute('name') || '?') + '"');
    }
  };
  walk(document);
  return out;
})()`) as Promise<string[]>;

/** The text of the element a button's aria-describedby names (in the button's shadow root). */
const why = async (page: Page, button: Locator): Promise<string> => {
  const id = await button.getAttribute('aria-describedby');
  assert.ok(id, 'the disabled button names its reason');
  return page.locator(`[id="${id}"]`).innerText();
};

describe('disabled controls say why (issue 16)', () => {
  it('"Create role" with an empty rule row, and "Publish" with a wildcard topic', async (t) => {
    const w = await startUiWorld(t);
    if (!w) return;
    const page = await w.newPage();
    await w.signIn(page);

    await page.goto(`${w.base}/access`);
    const create = page.locator('access-roles-panel form[aria-label="Create a role"]');
    await page.locator('access-roles-panel summary', { hasText: 'Create a role' }).click();
    const createButton = create.getByRole('button', { name: 'Create role' });
    assert.equal(await createButton.isDisabled(), true);
    assert.match(await why(page, createButton), /Give the role a name first/);
    await create.getByLabel('Role name').fill('line-operators');
    if (await create.getByLabel('Topic filter of rule 1').count() === 0) await create.getByRole('button', { name: '+ Add a rule' }).click();
    assert.equal(await createButton.isDisabled(), true, 'an empty rule row is not a rule');
    assert.match(await why(page, createButton), /Rule 1 has no topic filter yet/);
    await create.getByLabel('Topic filter of rule 1').fill('plant/line1/#');
    assert.equal(await createButton.isDisabled(), false);
    assert.equal(await createButton.getAttribute('aria-describedby'), null, 'nothing to explain once it works');

    await page.goto(`${w.base}/topics`);
    const form = page.locator('topic-publish form');
    const publish = form.getByRole('button', { name: 'Publish' });
    await form.getByLabel('Topic').fill('plant/#');
    assert.equal(await publish.isDisabled(), true, 'no publishing to a wildcard');
    assert.match(await why(page, publish), /Publish needs a valid topic/);
    await form.getByLabel('Topic').fill('plant/line1/cmd');
    assert.equal(await publish.isDisabled(), false);
  });

  it('no screen has a disabled control without its reason, for an admin and for a viewer', async (t) => {
    const w = await startUiWorld(t);
    if (!w) return;
    assert.equal((await w.api('POST', '/roles', { name: 'line-operators', description: 'Operators of line 1' })).status, 201);
    assert.equal((await w.api('POST', '/acls', { principal: 'role:line-operators', topic: 'plant/line1/#', access: 'readwrite' })).status, 201);
    for (let i = 0; i < 3; i++) assert.equal((await w.api('POST', '/mqtt-users', { username: `sensor-${i}`, roles: ['line-operators'] })).status, 201);
    const viewer = await w.adminUser('viewer');
    const failures: string[] = [];
    for (const who of ['admin', 'viewer'] as const) {
      const page = await w.newPage();
      if (who === 'admin') await w.signIn(page);
      else await w.signIn(page, viewer);
      // A viewer sees the screens a viewer may read (the others are not in its menu).
      for (const route of UI_ROUTES.filter((r) => who === 'admin' || r.minRole === 'viewer')) {
        await page.goto(`${w.base}${route.path}`);
        await page.locator(route.tag).waitFor();
        await page.waitForLoadState('networkidle');
        for (const c of await disabledWithoutReason(page)) failures.push(`${route.label} (${who}): ${c}`);
      }
      await page.close();
    }
    assert.deepEqual(failures, []);
  });
});

describe('the Access screen under the dynamic-security backend (issues 15, 16)', () => {
  it('offers "every user (pattern)" switched off, saying why, and Explain answers in the plugin\'s order', async (t) => {
    const w = await startUiWorld(t, { config: { mosquitto: { backend: 'dynsec' } } });
    if (!w) return;
    assert.equal((await w.api('POST', '/mqtt-users', { username: 'sensor-1' })).status, 201);
    assert.equal((await w.api('POST', '/acls', { principal: 'user:sensor-1', topic: 'plant/#', access: 'write' })).status, 201);
    const page = await w.newPage();
    await w.signIn(page);
    await page.goto(`${w.base}/access`);
    const option = page.locator('access-rules-panel form[aria-label="Add an ACL rule"] option[value="pattern"]');
    await option.waitFor({ state: 'attached' });
    assert.equal(await option.isDisabled(), true);
    assert.match(await option.innerText(), /not with the dynamic-security plugin/);
    const explain = page.locator('access-explain-panel form[aria-label="Explain access"]');
    await explain.getByLabel('Username').fill('sensor-1');
    await explain.getByLabel('Topic').fill('plant/line1');
    await explain.getByRole('radio', { name: 'write (publish)' }).check();
    await explain.getByRole('button', { name: 'Explain' }).click();
    const result = page.getByTestId('explain-result');
    await result.waitFor();
    assert.match(await result.innerText(), /allowed by role "user:sensor-1" \(publishClientSend "plant\/#", priority 0\)/);
  });
});
