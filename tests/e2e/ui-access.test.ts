/**
 * The MQTT users, Access and Schemas screens in a real browser against a real server and a real
 * supervised mosquitto (issue "The web UI"): what an operator does in the UI is what the broker
 * then enforces, Explain agrees with it, the apply status shows when it holds, a schema counts
 * real payloads, and lower roles see no write actions.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { startUiWorld, type UiWorld } from '../helpers/browser.ts';
import { connectAs, delivered, login, publish } from '../helpers/mqtt-client.ts';

const READER = { username: 'reader', password: 'reader-Pa55word-1' };

/**
 * Console errors (a CSP violation, an exception) fail the test. Not errors of the app: the API
 * refusals the test provokes on purpose (400, 409) and the browser's own favicon request.
 */
const watchConsole = (page: Page): string[] => {
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const url = m.location().url;
    const expected = /Failed to load resource/.test(m.text())
      && (/\/favicon\.ico$/.test(url) || (/\/api\/v1\//.test(url) && /status of (400|409)/.test(m.text())));
    if (!expected) errors.push(`${m.text()} (${url})`);
  });
  return errors;
};

const nav = async (page: Page, label: string): Promise<void> => {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: label, exact: true }).click();
  await page.getByRole('heading', { level: 1 }).first().waitFor();
};

/** The apply status banner reaches "applied" (pending first, unless the broker was quicker than the first read). */
const waitAppliedInUi = async (page: Page): Promise<string> => {
  const banner = page.locator('access-apply-status [data-phase="applied"]');
  await banner.waitFor({ timeout: 15_000 });
  const text = await banner.innerText();
  assert.match(text, /Apply status: (pending → )?applied/);
  assert.match(text, /the broker enforces it/);
  return text;
};

const seed = async (w: UiWorld): Promise<void> => {
  // A subscriber that may read everything under plant/: it confirms deliveries.
  assert.equal((await w.api('POST', '/mqtt-users', { username: READER.username, password: READER.password, description: 'test subscriber' })).status, 201);
  const rule = await w.api('POST', '/acls', { principal: `user:${READER.username}`, topic: 'plant/#', access: 'read', description: 'reads the plant' });
  assert.equal(rule.status, 201);
  const role = await w.api('POST', '/roles', { name: 'sensors', description: 'field sensors', rules: [{ topic: 'sensors/#', access: 'write' }] });
  assert.equal(role.status, 201, JSON.stringify(role.body));
  const grant = await w.api('PUT', `/mqtt-users/${READER.username}`, { roles: ['sensors'] });
  assert.equal(grant.status, 200);
  await w.waitApplied(Number(JSON.parse(grant.etag ?? '"0"')));
};

describe('web UI: MQTT users, access and schemas', () => {
  it('an operator creates a user and a rule in the UI, the broker enforces them, Explain agrees; schemas count payloads; lower roles only read', async (t) => {
    const w = await startUiWorld(t);
    if (!w) return;
    await seed(w);
    const page = await w.newPage();
    const consoleErrors = watchConsole(page);
    await w.signIn(page);

    // --- MQTT users: create with a generated password, shown once.
    await nav(page, 'MQTT users');
    await page.getByRole('cell', { name: READER.username, exact: true }).waitFor();
    await w.screenshot(page, 'mqtt-users');
    const create = page.getByRole('region', { name: 'Create an MQTT user' });
    await create.getByLabel('Username').fill('line-7');
    await create.getByLabel('Description').fill('press line 7');
    await create.getByRole('button', { name: 'Create user' }).click();
    const secret = page.getByTestId('one-time-password');
    await secret.waitFor();
    const password = (await secret.innerText()).trim();
    assert.match(password, /^[A-Za-z0-9_-]{24}$/, 'the generated password is shown');
    assert.match(await page.locator('users-one-time-password section').innerText(), /won't be shown again/);
    assert.equal(await page.locator('users-one-time-password mcm-copy-button').count(), 1);
    await page.getByRole('cell', { name: 'line-7', exact: true }).waitFor();
    await waitAppliedInUi(page);
    // One notice per action (issue 16): the apply status names the creation; no toast besides.
    assert.equal(await page.locator('mcm-app .notice').count(), 0, 'no toast on top of the apply status');
    assert.match(await page.locator('mcm-mqtt-users access-apply-status .banner').innerText(), /line-7/);
    await w.screenshot(page, 'mqtt-user-created');
    // The device can log in with it (no rule yet: it may publish nothing).
    const device = await connectAs(t, w.server.port, 'line-7', password);
    assert.equal(await publish(device, 'plant/line7/speed', '1'), 'denied', 'no rule grants line-7 anything yet');
    await page.getByRole('button', { name: /I have stored it/ }).click();
    assert.equal(await page.getByTestId('one-time-password').count(), 0, 'the password is gone once dismissed');

    // --- Access: a rule for line-7, with live validation of the topic filter.
    await nav(page, 'Access');
    const add = page.getByRole('form', { name: 'Add an ACL rule' });
    await add.getByLabel('Username').fill('line-7');
    const topic = add.getByLabel('Topic filter');
    await topic.fill('plant/#/line7');
    await add.getByTestId('topic-problem').waitFor();
    assert.equal(await topic.getAttribute('aria-invalid'), 'true');
    assert.equal(await add.getByRole('button', { name: 'Add rule' }).isDisabled(), true, 'an invalid filter cannot be sent');
    await topic.fill('plant/line7/#');
    assert.equal(await topic.getAttribute('aria-invalid'), 'false');
    await add.getByLabel('Access').selectOption('write');
    await add.getByLabel('Description').fill('line 7 telemetry');
    await add.getByRole('button', { name: 'Add rule' }).click();
    await page.getByRole('cell', { name: 'plant/line7/#', exact: true }).waitFor();
    await waitAppliedInUi(page);
    const ruleId = Number(await page.locator('tr[data-rule-id]', { hasText: 'plant/line7/#' }).getAttribute('data-rule-id'));
    assert.ok(ruleId > 0);

    // The broker enforces it: allowed topic accepted and delivered, any other denied.
    assert.equal(await publish(device, 'plant/line7/speed', '12'), 'accepted');
    assert.equal(await publish(device, 'plant/line8/speed', '12'), 'denied');
    const reader = await connectAs(t, w.server.port, READER.username, READER.password);
    await reader.subscribeAsync('plant/#', { qos: 1 });
    assert.equal(await delivered(device, reader, 'plant/line7/speed', 3000), true, 'the reader receives what line-7 may publish');
    assert.equal(await delivered(device, reader, 'plant/line8/speed', 1000), false, 'nothing arrives from a denied topic');
    await w.screenshot(page, 'access');

    // A role still granted can't be deleted: the server's reason is shown.
    await page.getByRole('button', { name: 'Delete role sensors' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete role' }).click();
    await page.getByRole('alert').filter({ hasText: 'MCM_ERR_ROLE_IN_USE' }).waitFor();
    assert.match(await page.getByRole('alert').filter({ hasText: 'MCM_ERR_ROLE_IN_USE' }).innerText(), /granted to 1 user: .*reader/);

    // --- Explain: allowed with the deciding rule, denied elsewhere; who-can lists line-7.
    const explain = page.getByRole('form', { name: 'Explain access' });
    await explain.getByLabel('Username').fill('line-7');
    await explain.getByLabel('Topic').fill('plant/line7/speed');
    await explain.getByLabel('write (publish)').check();
    await explain.getByRole('button', { name: 'Explain' }).click();
    const result = page.getByTestId('explain-result');
    await page.locator('[data-testid="explain-result"][data-allowed="true"]').waitFor();
    assert.match(await result.innerText(), /Allowed/);
    const deciding = result.locator(`tr[data-rule-id="${ruleId}"]`);
    assert.equal(await deciding.count(), 1, 'the deciding rule is listed');
    assert.match(await deciding.innerText(), /user:line-7\s+plant\/line7\/#\s+write\s+direct rule of the user/);
    await page.evaluate('window.scrollTo(0, 0)');
    await w.screenshot(page, 'explain');
    await explain.getByLabel('Topic').fill('plant/line8/speed');
    await explain.getByRole('button', { name: 'Explain' }).click();
    await page.locator('[data-testid="explain-result"][data-allowed="false"]').waitFor();
    assert.match(await result.innerText(), /Denied/);

    const who = page.getByRole('form', { name: 'Who can access a topic' });
    await who.getByLabel('Topic').fill('plant/line7/speed');
    await who.getByLabel('write (publish)').check();
    await who.getByRole('button', { name: 'Who can' }).click();
    const whoResult = page.getByTestId('who-result');
    await whoResult.waitFor();
    assert.match(await whoResult.innerText(), /1 user can write/);
    assert.equal(await whoResult.getByRole('cell', { name: 'line-7', exact: true }).count(), 1);

    // --- Reset the password in the UI: the old one is refused, the new one works once applied.
    await nav(page, 'MQTT users');
    await page.getByRole('button', { name: 'Reset the password of line-7' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Generate a new password' }).click();
    await page.getByTestId('one-time-password').waitFor();
    const newPassword = (await page.getByTestId('one-time-password').innerText()).trim();
    assert.notEqual(newPassword, password);
    await waitAppliedInUi(page);
    assert.equal((await login(t, w.server.port, 'line-7', password)).ok, false, 'the old password is refused');
    const device2 = await connectAs(t, w.server.port, 'line-7', newPassword);

    // --- Grant a role in the UI: its rule then holds for line-7.
    assert.equal(await publish(device2, 'sensors/line-7/temp', '20'), 'denied', 'not granted yet');
    await page.getByRole('button', { name: 'Edit description and roles of line-7' }).click();
    const edit = page.getByRole('form', { name: 'Edit line-7' });
    await edit.getByRole('group', { name: 'Roles of line-7' }).getByLabel('sensors').check();
    await edit.getByRole('button', { name: 'Save' }).click();
    await page.locator('tr[data-username="line-7"] .badge', { hasText: 'sensors' }).waitFor();
    await waitAppliedInUi(page);
    assert.equal(await publish(device2, 'sensors/line-7/temp', '21'), 'accepted', 'the role rule sensors/# holds for line-7');

    // --- Schemas: JSON checked before sending, ajv errors shown, counters from real payloads.
    await nav(page, 'Schemas');
    const form = page.getByRole('form', { name: 'Attach a JSON Schema' });
    await form.getByLabel('Name').fill('speed');
    await form.getByLabel('Topic filter').fill('plant/line7/speed');
    const text = form.getByLabel(/^JSON Schema/);
    await text.fill('{"type": "object", "required": ["v"],}');
    await form.getByTestId('schema-parse-problem').waitFor();
    assert.match(await form.getByTestId('schema-parse-problem').innerText(), /line 1, column 38/);
    assert.equal(await text.getAttribute('aria-invalid'), 'true');
    assert.equal(await form.getByRole('button', { name: 'Attach schema' }).isDisabled(), true);
    await text.fill('{"type": "objekt"}');
    await form.getByRole('button', { name: 'Attach schema' }).click();
    await form.getByRole('alert').filter({ hasText: 'MCM_ERR_SCHEMA_INVALID' }).waitFor();
    await text.fill('{"type": "object", "required": ["v"], "properties": {"v": {"type": "number"}}}');
    await form.getByRole('button', { name: 'Attach schema' }).click();
    const card = page.locator('article.schema', { hasText: 'speed' });
    await card.waitFor();
    assert.equal(await form.getByRole('alert').count(), 0, 'the error is gone after a good attach');
    // Payloads from the device: two valid, one invalid.
    assert.equal(await publish(device2, 'plant/line7/speed', '{"v": 1}'), 'accepted');
    assert.equal(await publish(device2, 'plant/line7/speed', '{"v": 2}'), 'accepted');
    assert.equal(await publish(device2, 'plant/line7/speed', '{"v": "fast"}'), 'accepted', 'observe-only: the broker still delivers it');
    await card.locator('[data-testid="invalid-count"]', { hasText: /^1$/ }).waitFor({ timeout: 15_000 });
    await card.locator('[data-testid="valid-count"]', { hasText: /^2$/ }).waitFor({ timeout: 15_000 });
    const violation = card.getByTestId('last-violation');
    await violation.waitFor();
    assert.match(await violation.innerText(), /\/v.*must be number/);
    assert.match(await violation.innerText(), /plant\/line7\/speed/);
    await w.screenshot(page, 'schemas');
    // Disable it, then enable it again.
    await card.getByRole('button', { name: 'Disable schema speed' }).click();
    await card.locator('.badge', { hasText: 'disabled' }).waitFor();
    await card.getByRole('button', { name: 'Enable schema speed' }).click();
    await card.locator('.badge', { hasText: 'enabled' }).waitFor();

    // One dark-theme screenshot.
    await nav(page, 'Access');
    await page.getByRole('button', { name: 'Toggle light and dark theme' }).click();
    await page.getByRole('region', { name: 'ACL rules' }).waitFor();
    await w.screenshot(page, 'access-dark');
    await page.getByRole('button', { name: 'Toggle light and dark theme' }).click();
    assert.deepEqual(consoleErrors, []);

    // --- An auditor reads the lists without write actions.
    const auditor = await w.adminUser('auditor');
    const ap = await w.newPage();
    const auditorErrors = watchConsole(ap);
    await w.signIn(ap, auditor);
    await nav(ap, 'MQTT users');
    await ap.getByRole('cell', { name: 'line-7', exact: true }).waitFor();
    await ap.getByTestId('readonly-reason').filter({ hasText: 'needs the operator role (you are auditor)' }).waitFor();
    assert.equal(await ap.getByRole('button', { name: 'Create user' }).count(), 0);
    assert.equal(await ap.getByRole('button', { name: /^Delete / }).count(), 0);
    await nav(ap, 'Access');
    await ap.getByRole('cell', { name: 'plant/line7/#', exact: true }).waitFor();
    assert.equal(await ap.getByRole('button', { name: 'Add rule' }).count(), 0);
    assert.equal(await ap.getByRole('button', { name: /^Delete / }).count(), 0);
    await nav(ap, 'Schemas');
    await ap.locator('article.schema', { hasText: 'speed' }).waitFor();
    assert.equal(await ap.getByRole('button', { name: /Detach|Attach schema/ }).count(), 0);
    assert.deepEqual(auditorErrors, []);

    // --- A viewer: no users or schemas pages, only Explain and Who on Access; topic checked as typed.
    const viewer = await w.adminUser('viewer');
    const vp = await w.newPage();
    const viewerErrors = watchConsole(vp);
    await w.signIn(vp, viewer);
    const vnav = vp.getByRole('navigation', { name: 'Main' });
    assert.equal(await vnav.getByRole('link', { name: 'MQTT users' }).count(), 0);
    assert.equal(await vnav.getByRole('link', { name: 'Schemas' }).count(), 0);
    await nav(vp, 'Access');
    await vp.getByTestId('lists-hidden').filter({ hasText: 'needs the auditor role (you are viewer)' }).waitFor();
    assert.equal(await vp.getByRole('region', { name: 'ACL rules' }).count(), 0);
    assert.equal(await vp.getByRole('button', { name: /Add rule|Create role|^Delete / }).count(), 0);
    const vexplain = vp.getByRole('form', { name: 'Explain access' });
    const vtopic = vexplain.getByLabel('Topic');
    await vtopic.fill('a/#/b');
    await vexplain.getByTestId('topic-problem').waitFor();
    assert.equal(await vtopic.getAttribute('aria-invalid'), 'true');
    assert.equal(await vexplain.getByRole('button', { name: 'Explain' }).isDisabled(), true);
    await vtopic.fill('plant/line7/speed');
    await vexplain.getByLabel('Username').fill('line-7');
    await vexplain.getByLabel('write (publish)').check();
    await vexplain.getByRole('button', { name: 'Explain' }).click();
    await vp.locator('[data-testid="explain-result"][data-allowed="true"]').waitFor();
    await w.screenshot(vp, 'access-viewer');
    // Typing the users page's address shows the reason instead of the screen.
    await vp.goto(`${w.base}/users`);
    await vp.getByText('This page needs the auditor role (you are viewer).').waitFor();
    assert.deepEqual(viewerErrors, []);
  });
});
