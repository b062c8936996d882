/**
 * Issue 16, accessibility: axe-core (the rules behind Lighthouse and most audits) runs in Chromium
 * on every screen with data, at a desktop's and a phone's width, and no serious or critical
 * violation is allowed. axe walks open shadow roots, so the Lit components are checked too.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { UI_ROUTES } from '../../ui/app/routes.ts';
import { startUiWorld } from '../helpers/browser.ts';

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

type Violation = { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] };

describe('web UI accessibility (issue 16)', () => {
  it('has no serious or critical axe-core violation on any screen at 1440 and 390 px', async (t) => {
    const w = await startUiWorld(t);
    if (!w) return;
    // Something on every screen: a role with a rule, users, a webhook, an admin, audit events.
    assert.equal((await w.api('POST', '/roles', { name: 'line-operators', description: 'Operators of line 1' })).status, 201);
    assert.equal((await w.api('POST', '/acls', { principal: 'role:line-operators', topic: 'plant/line1/#', access: 'readwrite' })).status, 201);
    for (let i = 0; i < 5; i++) assert.equal((await w.api('POST', '/mqtt-users', { username: `sensor-${i}`, description: `Sensor ${i}`, roles: i % 2 ? ['line-operators'] : [] })).status, 201);
    await w.adminUser('viewer');
    const failures: string[] = [];
    for (const width of [1440, 390]) {
      // bypassCSP: the app's CSP (rightly) refuses the injected axe script.
      const context = await w.browser.newContext({ viewport: { width, height: 900 }, bypassCSP: true });
      const page = await context.newPage();
      await w.signIn(page);
      for (const route of UI_ROUTES) {
        await page.goto(`${w.base}${route.path}`);
        await page.locator(route.tag).waitFor();
        await page.waitForLoadState('networkidle');
        await page.addScriptTag({ path: AXE });
        const { passed, violations } = await page.evaluate(`axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } })
          .then((r) => ({ passed: r.passes.length, violations: r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target })) })) }))`) as { passed: number; violations: Violation[] };
        assert.ok(passed >= 10, `axe checked ${route.label} (${passed} rules passed)`);
        for (const v of violations.filter((x) => x.impact === 'serious' || x.impact === 'critical')) {
          failures.push(`${route.label} at ${width} px: ${v.impact} ${v.id} (${v.help}) at ${JSON.stringify(v.nodes.slice(0, 3).map((n) => n.target))}`);
        }
      }
      await context.close();
    }
    assert.deepEqual(failures, []);
  });

  it('reaches every control on every screen with Tab, each with a visible focus ring', async (t) => {
    const w = await startUiWorld(t);
    if (!w) return;
    assert.equal((await w.api('POST', '/roles', { name: 'line-operators', description: 'Operators of line 1' })).status, 201);
    assert.equal((await w.api('POST', '/acls', { principal: 'role:line-operators', topic: 'plant/line1/#', access: 'readwrite' })).status, 201);
    for (let i = 0; i < 3; i++) assert.equal((await w.api('POST', '/mqtt-users', { username: `sensor-${i}`, description: 'x'.repeat(i === 0 ? 300 : 10), roles: ['line-operators'] })).status, 201);
    const page = await w.newPage();
    await w.signIn(page);
    const failures: string[] = [];
    for (const route of UI_ROUTES) {
      await page.goto(`${w.base}${route.path}`);
      await page.locator(route.tag).waitFor();
      await page.waitForLoadState('networkidle');
      // Every visible, enabled control gets a number; Tab then has to land on each of them.
      const controls = await page.evaluate(KBD_MARK) as string[];
      const reached = new Set<string>();
      for (let i = 0; i < 2 * controls.length + 20 && reached.size < controls.length; i++) {
        await page.keyboard.press('Tab');
        const f = await page.evaluate(KBD_FOCUSED) as { id: string | null; ring: boolean; what: string };
        if (f.id === null) continue;
        reached.add(f.id);
        if (!f.ring) failures.push(`${route.label}: no visible focus on ${f.what}`);
      }
      const missed = controls.filter((c) => !reached.has(c.split(' ')[0] ?? ''));
      if (missed.length) failures.push(`${route.label}: not reachable with Tab: ${missed.slice(0, 5).join(', ')}`);
    }
    assert.deepEqual(failures, []);
  });
});

/** Marks every visible, enabled control (across shadow roots) with data-kbd; returns "id what" for each. */
const KBD_MARK = `(() => {
  const out = [];
  let n = 0;
  const visit = (root) => {
    for (const el of root.querySelectorAll('*')) {
      if (el.shadowRoot) visit(el.shadowRoot);
      const control = el.matches('a[href], button, input:not([type=hidden]), select, textarea, [tabindex]:not([tabindex="-1"])');
      if (!control || el.disabled || el.closest('[inert]')) continue;
      // Not rendered: display none, visibility hidden, or inside a closed <details>.
      if (!el.checkVisibility({ checkVisibilityCSS: true, contentVisibilityAuto: true })) continue;
      const r = el.getBoundingClientRect();
      if (r.width === 0 || r.height === 0) continue;
      // A radio group is one Tab stop (the checked radio, else the first); arrows move inside it.
      if (el.type === 'radio' && el.name) {
        const group = [...root.querySelectorAll('input[type=radio]')].filter((x) => x.name === el.name);
        const stop = group.find((x) => x.checked) ?? group[0];
        if (stop !== el) continue;
      }
      el.dataset.kbd = String(++n);
      out.push(n + ' ' + el.tagName.toLowerCase() + ' "' + (el.getAttribute('aria-label') || el.textContent || el.getAttribute('name') || '').trim().slice(0, 40) + '"');
    }
  };
  visit(document);
  return out;
})()`;

/** The focused element through the shadow roots: its mark and whether a focus ring shows. */
const KBD_FOCUSED = `(() => {
  let el = document.activeElement;
  while (el && el.shadowRoot && el.shadowRoot.activeElement) el = el.shadowRoot.activeElement;
  if (!el || el === document.body) return { id: null, ring: false, what: '' };
  const cs = getComputedStyle(el);
  const ring = (cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) >= 2) || cs.boxShadow !== 'none';
  return { id: el.dataset ? el.dataset.kbd ?? null : null, ring, what: el.tagName.toLowerCase() + ' ' + (el.textContent || el.getAttribute('name') || '').trim().slice(0, 40) };
})()`;
