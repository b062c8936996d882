/**
 * API tokens in the web UI (issue 17), in Chromium against a real server: an operator creates a
 * token on the Account screen (roles offered only up to theirs), sees it once, a script uses it,
 * the table shows its last use; an admin sees it with its creator on the Admin users screen and
 * revokes it there; the script is refused from its next request.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startUiWorld } from '../helpers/browser.ts';

const T = { timeout: 15_000 };

describe('web UI: API tokens', () => {
  it('an operator creates a token on Account (shown once), a script uses it, an admin revokes it on Admin users', async (t) => {
    const w = await startUiWorld(t);
    if (!w) return;
    const operator = await w.adminUser('operator', 'ui-ops');
    const page = await w.newPage();
    await w.signIn(page, operator);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Account', exact: true }).click();
    const panel = page.locator('mcm-api-tokens');
    await panel.getByRole('heading', { name: 'Your API tokens' }).waitFor(T);
    await panel.getByTestId('no-tokens').waitFor(T);
    const roles = await panel.getByLabel('Role').locator('option').allTextContents();
    assert.deepEqual(roles, ['viewer', 'auditor', 'operator'], 'no role above the operator\'s own');

    // A bad name is explained before anything is sent.
    await panel.getByLabel('Name').fill('has space');
    await panel.getByRole('button', { name: 'Create token' }).click();
    await panel.getByText('Only letters, digits').waitFor(T);

    await panel.getByLabel('Name').fill('ci-deploy');
    await panel.getByLabel('Role').selectOption('operator');
    await panel.getByLabel('Expires').selectOption('30d');
    await panel.getByRole('button', { name: 'Create token' }).click();
    const value = (await panel.getByTestId('token-value').textContent({ timeout: 15_000 })) ?? '';
    assert.match(value, /^mcmt_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    await panel.locator('tr[data-token="ci-deploy"]').waitFor(T);

    // A script with the token.
    const script = (path: string, init: RequestInit = {}) => fetch(`${w.base}/api/v1${path}`, { ...init, headers: { authorization: `Bearer ${value}`, 'content-type': 'application/json' } });
    const made = await script('/mqtt-users', { method: 'POST', body: JSON.stringify({ username: 'from-ci', password: 'From-ci-password-1' }) });
    assert.equal(made.status, 201, await made.text());

    // Shown once: gone after Done and after a reload; the last use is listed.
    await panel.getByRole('button', { name: 'Done' }).click();
    await page.reload();
    await page.locator('mcm-api-tokens tr[data-token="ci-deploy"]').waitFor(T);
    assert.equal(await page.locator('mcm-api-tokens').getByTestId('token-value').count(), 0);
    assert.match(await page.locator('mcm-api-tokens tr[data-token="ci-deploy"]').innerText(), /from 127\.0\.0\.1/);
    await w.screenshot(page, 'ui-tokens-account');

    // The admin sees it with its creator and revokes it.
    const admin = await w.newPage();
    await w.signIn(admin);
    await admin.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Admin users', exact: true }).click();
    const all = admin.locator('mcm-api-tokens');
    await all.getByRole('heading', { name: 'API tokens (everyone\'s)' }).waitFor(T);
    const row = all.locator('tr[data-token="ci-deploy"]');
    await row.waitFor(T);
    assert.match(await row.innerText(), /ui-ops/);
    await row.getByRole('button', { name: 'Revoke ci-deploy' }).click();
    await admin.getByRole('dialog').getByRole('button', { name: 'Revoke' }).click();
    await all.getByTestId('no-tokens').waitFor(T);
    assert.equal((await script('/mqtt-users')).status, 401, 'refused from the next request');
    const revoked = (await w.api('GET', '/audit-events?type=ApiTokenRevoked')).body['items'] as { actor: { kind: string } }[];
    assert.equal(revoked.length, 1);
  });
});
