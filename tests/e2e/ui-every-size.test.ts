/**
 * Issue 16, "Every screen at every size": every screen, with real data that stresses layouts
 * (200 MQTT users, long names, a 1,024-character description without spaces, 500 topics with
 * retained payloads, long role names and topics), at a phone's width (390 px) and a desktop's
 * (1440 px). Fails when the page scrolls sideways or any element sticks out past the viewport's
 * right edge (unless it sits in a scroll box of its own, like a payload's <pre>), and saves a
 * screenshot of each (tests/e2e/screenshots/size-<screen>-<width>.png).
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import type { MqttClient } from 'mqtt';
import type { Page } from 'playwright-core';
import { UI_ROUTES } from '../../ui/app/routes.ts';
import { startUiWorld, UI_PASSWORD, type UiWorld } from '../helpers/browser.ts';
import { connectAs } from '../helpers/mqtt-client.ts';
import { LAYOUT_PROBE, type LayoutProblems } from '../helpers/layout-probe.ts';

/** The two widths, and the ends of the range it names (360 to 1920 px). */
const WIDTHS = [360, 390, 1440, 1920] as const;
const LONG = 'x'.repeat(1024);

/** Elements sticking out past the right edge of the viewport, described for the failure message. */
const overflowing = (page: Page): Promise<LayoutProblems> => page.evaluate(LAYOUT_PROBE) as Promise<LayoutProblems>;

/** Data that makes layouts break: many rows, long names, a long word, many topics. */
const seed = async (w: UiWorld): Promise<void> => {
  const longRole = `line-supervisors-of-the-north-plant-${'r'.repeat(60)}`;
  assert.equal((await w.api('POST', '/roles', { name: longRole, description: 'Supervisors of every production line in the north plant' })).status, 201);
  assert.equal((await w.api('POST', '/acls', { principal: `role:${longRole}`, topic: `plant/north/${'segment/'.repeat(20)}#`, access: 'readwrite' })).status, 201);
  const ops: unknown[] = [];
  for (let i = 0; i < 200; i++) {
    const username = i === 0 ? `device-with-a-very-long-name-${'n'.repeat(180)}` : `sensor-${String(i).padStart(4, '0')}-line-${i % 7}`;
    ops.push({ op: 'create_mqtt_user', body: { username, description: i === 1 ? LONG : `Temperature sensor ${i} on line ${i % 7}`, roles: i % 3 === 0 ? [longRole] : [] } });
  }
  const batch = await w.api('POST', '/batch', { operations: ops });
  assert.equal(batch.status, 200, JSON.stringify(batch.body).slice(0, 500));
  // API tokens (issue 17) on Account and Admin users: a name at the 64-character limit.
  for (const name of [`ci-${'t'.repeat(61)}`, 'nightly-backup']) {
    assert.equal((await w.api('POST', '/tokens', { name, role: 'operator', expires: '90d' })).status, 201);
  }
  assert.equal((await w.api('POST', '/mqtt-users', { username: 'publisher', password: UI_PASSWORD })).status, 201);
  const rule = await w.api('POST', '/acls', { principal: 'user:publisher', topic: '#', access: 'readwrite' });
  assert.equal(rule.status, 201);
  await w.waitApplied(Number(JSON.parse(rule.etag ?? '"0"')));
};

/** A device allowed to publish anywhere, connected once its rule is enforced. */
const publisher = async (t: TestContext, w: UiWorld): Promise<MqttClient> => {
  assert.equal((await w.api('POST', '/mqtt-users', { username: 'publisher', password: UI_PASSWORD })).status, 201);
  const rule = await w.api('POST', '/acls', { principal: 'user:publisher', topic: '#', access: 'readwrite' });
  await w.waitApplied(Number(JSON.parse(rule.etag ?? '"0"')));
  return connectAs(t, w.server.port, 'publisher', UI_PASSWORD);
};

describe('web UI at every size (issue 16)', () => {
  it('no screen scrolls sideways or sticks out at 360, 390, 1440 and 1920 px, with long and many data', async (t) => {
    const w = await startUiWorld(t);
    if (!w) return;
    await seed(w);
    const pub = await connectAs(t, w.server.port, 'publisher', UI_PASSWORD);
    for (let i = 0; i < 500; i++) {
      const topic = i % 50 === 0 ? `plant/north/${'very-long-segment-name/'.repeat(8)}sensor-${i}` : `plant/line-${i % 10}/sensor-${i}/temperature`;
      await pub.publishAsync(topic, JSON.stringify({ value: i, unit: 'C', note: i === 7 ? LONG : 'ok' }), { retain: i % 2 === 0, qos: 0 });
    }
    const failures: string[] = [];
    for (const width of WIDTHS) {
      const context = await w.browser.newContext({ viewport: { width, height: 844 } });
      const page = await context.newPage();
      page.on('pageerror', (err) => { failures.push(`page error at ${width}: ${err.message}`); });
      await w.signIn(page);
      for (const route of UI_ROUTES) {
        await page.goto(`${w.base}${route.path}`);
        await page.locator(route.tag).waitFor();
        // Lists load over the API; give them a moment to render (a bound, not a timing claim).
        await page.waitForLoadState('networkidle');
        const found = await overflowing(page);
        const name = route.path === '/' ? 'dashboard' : route.path.slice(1);
        await w.screenshot(page, `size-${name}-${width}`);
        if (found.scrollWidth > found.viewport || found.offenders.length) {
          failures.push(`${route.label} at ${width} px: scrollWidth ${found.scrollWidth} > ${found.viewport}; ${found.offenders.join('; ')}`);
        }
      }
      await context.close();
    }
    assert.deepEqual(failures, []);
  });

  it('folds the navigation into a menu at 390 px: links hidden until Menu is pressed, folded again after a choice', async (t) => {
    const w = await startUiWorld(t);
    if (!w) return;
    const context = await w.browser.newContext({ viewport: { width: 390, height: 844 } });
    t.after(() => context.close());
    const page = await context.newPage();
    await w.signIn(page);
    const nav = page.getByRole('navigation', { name: 'Main' });
    const menu = nav.getByRole('button', { name: /^Menu/ });
    assert.equal(await menu.getAttribute('aria-expanded'), 'false');
    assert.equal(await nav.getByRole('link', { name: 'Topics', exact: true }).isVisible(), false, 'folded: no links');
    await menu.click();
    assert.equal(await menu.getAttribute('aria-expanded'), 'true');
    await nav.getByRole('link', { name: 'Topics', exact: true }).click();
    await page.locator('mcm-topics').waitFor();
    assert.equal(new URL(page.url()).pathname, '/topics');
    assert.equal(await menu.getAttribute('aria-expanded'), 'false', 'folded again after a choice');
    assert.match(await menu.innerText(), /Topics/, 'the button names the page');
    // At a desktop width there is no menu button: the links are always there.
    await page.setViewportSize({ width: 1440, height: 900 });
    assert.equal(await menu.isVisible(), false);
    assert.equal(await nav.getByRole('link', { name: 'Topics', exact: true }).isVisible(), true);
  });

  it('cuts a long username or role name to one line with "…", and shows all of it on hover and on focus', async (t) => {
    const w = await startUiWorld(t);
    if (!w) return;
    const name = `device-with-a-very-long-name-${'n'.repeat(180)}`;
    const role = `line-supervisors-of-the-north-plant-${'r'.repeat(60)}`;
    assert.equal((await w.api('POST', '/roles', { name: role })).status, 201);
    assert.equal((await w.api('POST', '/mqtt-users', { username: name, roles: [role], description: LONG })).status, 201);
    const page = await w.newPage();
    await page.setViewportSize({ width: 1440, height: 900 });
    await w.signIn(page);
    await page.goto(`${w.base}/users`);
    const cell = page.locator(`mcm-mqtt-users tr[data-username="${name}"] .ellipsis`).first();
    await cell.waitFor();
    // The tests' TypeScript has no DOM globals: the element's own window computes its style.
    const box = () => cell.evaluate((el) => {
      const style = el.ownerDocument.defaultView!.getComputedStyle(el);
      return { cut: el.scrollWidth > el.clientWidth, lines: Math.round(el.getBoundingClientRect().height / (parseFloat(style.lineHeight) || 20)), overflow: style.textOverflow };
    });
    const before = await box();
    assert.equal(before.cut, true, 'the name is cut');
    assert.equal(before.overflow, 'ellipsis');
    assert.equal(await cell.getAttribute('title'), name, 'the whole name in the tooltip');
    assert.equal(await cell.getAttribute('tabindex'), '0', 'reachable by keyboard');
    await cell.focus();
    const focused = await box();
    assert.equal(focused.cut, false, 'focused: the whole name shows');
    assert.ok(focused.lines > 1, 'it wraps onto more lines instead');
    const badge = page.locator(`mcm-mqtt-users tr[data-username="${name}"] .badge .ellipsis`).first();
    assert.equal(await badge.getAttribute('title'), role, 'a long role name is cut the same way');
    // A description is kept to two lines the same way, the rest on hover and focus.
    const description = page.locator(`mcm-mqtt-users tr[data-username="${name}"] .clamp`).first();
    const clipped = () => description.evaluate((el) => el.scrollHeight > el.clientHeight + 1);
    assert.equal(await clipped(), true, 'the 1,024-character description is cut');
    assert.equal(await description.getAttribute('title'), LONG);
    await description.focus();
    assert.equal(await clipped(), false, 'focused: the whole description shows');
  });

  it('says so when a field cuts what was typed or pasted to its maximum length', async (t) => {
    const w = await startUiWorld(t);
    if (!w) return;
    const page = await w.newPage();
    await w.signIn(page);
    await page.goto(`${w.base}/users`);
    const form = page.locator('mcm-mqtt-users form.create');
    const description = form.getByLabel('Description');
    await description.fill('d'.repeat(1100)); // pasted: the field keeps 1,024
    assert.equal((await description.inputValue()).length, 1024);
    const label = form.locator('label:has(input[name="description"])');
    assert.match(await label.getAttribute('data-limit') ?? '', /1,024 characters, the most allowed: anything longer is cut/);
    await description.press('Backspace');
    assert.equal(await label.getAttribute('data-limit'), null, 'below the limit: no note');
  });

  it('wraps a long topic in the search results only between its levels, at 390 px', async (t) => {
    const w = await startUiWorld(t);
    if (!w) return;
    const pub = await publisher(t, w);
    const topic = `factory/${'assembly-hall-north/'.repeat(6)}temperature-sensor-12`;
    await pub.publishAsync(topic, '21.5', { retain: true, qos: 1 });
    const context = await w.browser.newContext({ viewport: { width: 390, height: 844 } });
    t.after(() => context.close());
    const page = await context.newPage();
    await w.signIn(page);
    await page.goto(`${w.base}/topics`);
    const search = page.locator('mcm-topics input[name="q"]');
    await search.fill('temperature-sensor');
    await search.press('Enter');
    const result = page.locator('mcm-topics button.topic').first();
    await result.waitFor();
    // The character before each line break of the rendered name (Range rects per character).
    const before = await page.evaluate(`(() => {
      const button = document.querySelector('mcm-app').shadowRoot.querySelector('mcm-topics').shadowRoot.querySelector('button.topic');
      const chars = [];
      const walker = document.createTreeWalker(button, NodeFilter.SHOW_TEXT);
      for (let n = walker.nextNode(); n; n = walker.nextNode()) for (let i = 0; i < n.data.length; i++) chars.push([n, i]);
      const out = [];
      let top = null;
      let prev = '';
      for (const [n, i] of chars) {
        const r = document.createRange();
        r.setStart(n, i);
        r.setEnd(n, i + 1);
        const rect = r.getClientRects()[0];
        if (rect && top !== null && rect.top > top + 2) out.push(prev);
        if (rect) top = rect.top;
        prev = n.data[i];
      }
      return out;
    })()`) as string[];
    assert.ok(before.length >= 1, 'the name needs several lines at 390 px');
    assert.deepEqual([...new Set(before)], ['/'], `every line ends after a "/" (breaks after: ${JSON.stringify(before)})`);
  });

  it('shows a topic\'s recent messages as a compact list that scrolls in its own box', async (t) => {
    const w = await startUiWorld(t);
    if (!w) return;
    const pub = await publisher(t, w);
    for (let i = 0; i < 20; i++) await pub.publishAsync('plant/line1/temperature', JSON.stringify({ value: 20 + i / 10, unit: 'C', sensor: 'pt100-north-wall' }), { qos: 1 });
    const page = await w.newPage();
    await w.signIn(page);
    await page.goto(`${w.base}/topics/${encodeURIComponent('plant/line1/temperature')}`);
    const list = page.locator('topic-detail ol.history');
    await list.waitFor();
    // The detail follows the topic live: wait (bounded) until all 20 are listed.
    await list.locator('li').nth(19).waitFor({ timeout: 15_000 });
    const box = await list.evaluate((el) => ({ count: el.children.length, client: el.clientHeight, scroll: el.scrollHeight }));
    assert.equal(box.count, 20, 'the 20 messages the observer keeps (history_depth)');
    assert.ok(box.client <= 16 * 14 + 4, `at most 16rem tall (${box.client} px)`);
    assert.ok(box.scroll > box.client, 'the rest scrolls inside the list');
    const row = await list.locator('li').first().evaluate((el) => el.clientHeight);
    assert.ok(row <= 40, `one line per message (${row} px)`);
  });

  it('shows a retained topic\'s value and marker in the tree on load, with no message since', async (t) => {
    const w = await startUiWorld(t);
    if (!w) return;
    const pub = await publisher(t, w);
    await pub.publishAsync('plant/setpoint', '21.5', { retain: true, qos: 1 });
    // Observed by the server before the page opens (bounded wait).
    const deadline = Date.now() + 10_000;
    while ((await w.api('GET', '/topics?prefix=plant')).body['items']?.length !== 1) {
      if (Date.now() > deadline) throw new Error('the observer did not see plant/setpoint');
      await new Promise((r) => setTimeout(r, 100));
    }
    const page = await w.newPage();
    await w.signIn(page);
    await page.goto(`${w.base}/topics`);
    await page.locator('mcm-topics button.toggle[aria-label="Expand plant"]').click();
    const row = page.locator('mcm-topics tr[data-path="plant/setpoint"]');
    await row.waitFor();
    assert.equal((await row.locator('td.preview').innerText()).trim(), '21.5');
    assert.equal(await row.locator('.badge', { hasText: 'retained' }).count(), 1);
  });
});
