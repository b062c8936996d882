/**
 * The Broker screen in a real Chromium (issue 13, "Broker configuration as events") against the
 * real server and its supervised mosquitto: a viewer only reads (MCM's own listener shown
 * read-only); an operator adds a listener to the draft and previews it but cannot confirm; the
 * admin adds a websockets listener on a free port bound to interface lo, previews (the diff shows
 * `+listener <port> lo`, the restart and the clients it drops), confirms (PUT with the preview's
 * seq in If-Match), sees it applied, and the broker then accepts connections on that port;
 * certificates pasted as PEM are listed with their expiry (a warning at ≤ 30 days), and a bridge
 * with a password previews with `remote_password ********` and is discarded.
 * Screenshots at 1440 and 390 px wide, with no horizontal page scroll at either.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { startUiWorld, UI_PASSWORD } from '../helpers/browser.ts';
import { makeCa, makeCert } from '../helpers/pki.ts';
import { freePort } from '../helpers/ports.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const T = { timeout: 15_000 };

/** Console errors other than API refusals the test provokes (403 for the operator): CSP violations, exceptions. */
const watchConsole = (page: Page): string[] => {
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) errors.push(m.text());
  });
  return errors;
};

const nav = async (page: Page, label: string): Promise<void> => {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: label, exact: true }).click();
  await page.getByRole('heading', { level: 1, name: label }).waitFor(T);
};

/** The page is no wider than the viewport (the Node type-check has no DOM lib: the shape is declared here). */
type Win = { innerWidth: number; document: { documentElement: { scrollWidth: number } } };
const noHorizontalScroll = (page: Page) => page.evaluate(() => {
  const w = globalThis as unknown as Win;
  return w.document.documentElement.scrollWidth <= w.innerWidth;
});

/** Fills the listener form (the draft only) for a websockets listener on `port` bound to interface lo. */
const addWsListener = async (page: Page, name: string, port: number): Promise<void> => {
  await page.getByRole('button', { name: 'Add a listener' }).click();
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByLabel('Port', { exact: true }).fill(String(port));
  await page.getByLabel('Protocol', { exact: true }).selectOption('websockets');
  await page.getByLabel('Interface', { exact: true }).fill('lo');
  await page.getByRole('button', { name: 'Add to the draft' }).click();
  await page.locator(`tr[data-listener="${name}"]`).getByText('new', { exact: true }).waitFor(T);
};

/** Full-page screenshots from the top: the shell's sticky header stays where it belongs. */
const toTop = (page: Page) => page.evaluate(() => (globalThis as unknown as { scrollTo(x: number, y: number): void }).scrollTo(0, 0));

const tcpAccepts = (port: number): Promise<boolean> => new Promise((resolve) => {
  const s = connect({ host: '127.0.0.1', port }, () => { s.end(); resolve(true); });
  s.once('error', () => resolve(false));
});

describe('web UI: broker configuration', () => {
  it('viewer reads; operator previews; admin adds a websockets listener on lo, previews the diff, confirms, sees it applied', async (t) => {
    const w = await startUiWorld(t);
    if (!w) return;
    const viewer = await w.adminUser('viewer', 'ui-viewer');
    const operator = await w.adminUser('operator', 'ui-operator');
    const page = await w.newPage();
    const consoleErrors = watchConsole(page);
    const mcmPort = w.server.port;
    const wsPort = await freePort();

    await t.test('a viewer reads the configuration: MCM\'s own listener, the options, no write action', async () => {
      await w.signIn(page, viewer, UI_PASSWORD);
      await nav(page, 'Broker');
      await page.getByTestId('broker-readonly').waitFor(T);
      const own = page.locator(`tr[data-reserved="${mcmPort}"]`);
      await own.waitFor(T);
      assert.match(await own.innerText(), /MCM[\s\S]*read-only[\s\S]*mqtt[\s\S]*127\.0\.0\.1/);
      await page.getByTestId('broker-options').locator('tr[data-option="persistence"]').waitFor(T);
      assert.match(await page.getByTestId('broker-options').locator('tr[data-option="max_inflight_messages"]').innerText(), /restart/);
      assert.match(await page.getByTestId('broker-options').locator('tr[data-option="autosave_interval"]').innerText(), /reload/);
      for (const name of ['Add a listener', 'Add a bridge', 'Preview changes', 'Upload a certificate']) {
        assert.equal(await page.getByRole('button', { name }).count(), 0, `no "${name}" for a viewer`);
      }
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('heading', { name: 'Sign in to MCM' }).waitFor(T);
    });

    await t.test('an operator edits the draft and previews, but confirming needs an admin', async () => {
      await w.signIn(page, operator, UI_PASSWORD);
      await nav(page, 'Broker');
      await addWsListener(page, 'ops', wsPort);
      await page.getByRole('button', { name: 'Preview changes' }).click();
      await page.getByTestId('broker-diff').waitFor(T);
      const confirm = page.getByRole('button', { name: /^Confirm/ });
      assert.equal(await confirm.isDisabled(), true);
      await page.getByText('Applying needs the admin role (you are operator).').waitFor(T);
      const res = await w.api('PUT', '/broker/config', { config: { listeners: [] } }, operator);
      assert.equal(res.status, 403, 'the server refuses an operator too');
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('heading', { name: 'Sign in to MCM' }).waitFor(T);
    });

    await t.test('the admin adds the listener, previews the diff, confirms, and the broker listens on it', async () => {
      await page.setViewportSize({ width: 1440, height: 900 });
      await w.signIn(page);
      await nav(page, 'Broker');
      assert.equal(await tcpAccepts(wsPort), false, 'nothing listens there yet');
      const before = (await w.api('GET', '/broker/config')).body;
      assert.deepEqual(before['config']['listeners'], [], 'the operator\'s draft was never applied');
      await addWsListener(page, 'browsers', wsPort);
      await page.getByTestId('broker-draft-state').getByText('The draft has changes').waitFor(T);
      await page.getByRole('button', { name: 'Preview changes' }).click();
      const diff = page.getByTestId('broker-diff');
      await diff.waitFor(T);
      const diffText = await diff.innerText();
      assert.match(diffText, new RegExp(`^\\+listener ${wsPort} lo$`, 'm'));
      assert.match(diffText, /^\+protocol websockets$/m);
      assert.match(await page.getByTestId('broker-changes').innerText(), /restart\s+listener browsers added/);
      assert.match(await page.getByTestId('broker-restart').innerText(), /^Restart needed — /);
      assert.ok(await noHorizontalScroll(page), 'no horizontal scroll at 1440 px');
      await toTop(page);
      await w.screenshot(page, 'broker-preview');

      await page.getByRole('button', { name: 'Confirm: apply and restart the broker' }).click();
      await page.getByTestId('broker-applied').waitFor(T);
      const status = page.locator('access-apply-status [data-phase="applied"]');
      await status.waitFor({ timeout: 30_000 });
      assert.match(await status.innerText(), /Broker configuration saved; the broker restarts to apply it/);
      // One notice per action (issue 16): the apply status says it all; no toast besides.
      assert.equal(await page.locator('mcm-app .notice').count(), 0);
      const after = (await w.api('GET', '/broker/config')).body;
      assert.deepEqual(after['config']['listeners'], [{ name: 'browsers', port: wsPort, protocol: 'websockets', address: null, bindInterface: 'lo', tls: null, maxConnections: null }]);
      const row = page.locator('tr[data-listener="browsers"]');
      await row.waitFor(T);
      assert.equal(await row.getByText('new', { exact: true }).count(), 0, 'the broker has it now: no longer new');
      assert.match(await row.innerText(), /websockets[\s\S]*interface lo/);
      await page.getByTestId('broker-draft-state').getByText('The draft is the configuration the broker has.').waitFor(T);
      assert.equal(await tcpAccepts(wsPort), true, 'the broker listens on the new port');
      assert.ok(await noHorizontalScroll(page), 'no horizontal scroll at 1440 px');
      await toTop(page);
      await w.screenshot(page, 'broker');
    });

    await t.test('certificates pasted as PEM are listed with their expiry; a bridge\'s password previews as ********', async () => {
      const pki = tempDir(t, 'mcm-ui-pki-');
      const ca = makeCa(pki, 'Plant CA');
      const soon = makeCert(pki, { ca, cn: 'localhost', days: 10 });
      const upload = async (name: string, cert: string, key = '', signedBy = '') => {
        await page.getByRole('button', { name: 'Upload a certificate' }).click();
        await page.getByLabel('Name', { exact: true }).fill(name);
        await page.getByLabel('Certificate (PEM)').fill(cert);
        if (key) await page.getByLabel('Private key (PEM, optional)').fill(key);
        if (signedBy) await page.getByLabel('Signed by (stored CA)').selectOption(signedBy);
        await page.getByRole('button', { name: 'Upload', exact: true }).click();
        await page.locator(`tr[data-certificate="${name}"]`).waitFor(T);
      };
      await upload('plant-ca', ca.certPem);
      await upload('broker', soon.certPem, soon.keyPem, 'plant-ca');
      const caRow = page.locator('tr[data-certificate="plant-ca"]');
      assert.match(await caRow.innerText(), /Plant CA[\s\S]*expires in 3,6\d\d days[\s\S]*CA/);
      assert.equal(await caRow.locator('[data-tone]').getAttribute('data-tone'), 'ok');
      assert.equal(await caRow.getByRole('button', { name: 'Remove certificate plant-ca' }).isDisabled(), true, 'in use as the CA of broker');
      const soonRow = page.locator('tr[data-certificate="broker"]');
      assert.match(await soonRow.innerText(), /expires in (9|10) days[\s\S]*private key/);
      assert.equal(await soonRow.locator('[data-tone]').getAttribute('data-tone'), 'warn', '≤ 30 days: a warning');
      const listed = (await w.api('GET', '/certificates')).body['items'] as { name: string }[];
      assert.deepEqual(listed.map((c) => c.name), ['broker', 'plant-ca']);

      await page.getByRole('button', { name: 'Add a bridge' }).click();
      await page.getByLabel('Connection name', { exact: true }).fill('cloud');
      await page.getByLabel('Remote addresses', { exact: true }).fill('mqtt.example.com:8883');
      await page.getByLabel('Remote username', { exact: true }).fill('edge');
      await page.getByLabel('Remote password', { exact: true }).fill('bridge-secret-1');
      await page.getByLabel('Pattern 1', { exact: true }).fill('plant/#');
      await page.getByLabel('Direction 1', { exact: true }).selectOption('out');
      await page.getByRole('button', { name: 'Add to the draft' }).click();
      const bridge = page.locator('tr[data-bridge="cloud"]');
      await bridge.getByText('new (in the draft)').waitFor(T);
      await page.getByRole('button', { name: 'Preview changes' }).click();
      const diff = page.getByTestId('broker-diff');
      await diff.waitFor(T);
      const text = await diff.innerText();
      assert.match(text, /^\+connection cloud$/m);
      assert.match(text, /^\+remote_password \*{8}$/m);
      assert.match(text, /^\+topic plant\/# out 0$/m);
      assert.ok(!text.includes('bridge-secret-1'), 'the password is never shown');
      await toTop(page);
      await w.screenshot(page, 'broker-bridge-preview');
      await page.getByRole('button', { name: 'Discard the draft' }).click();
      await page.getByTestId('broker-draft-state').getByText('The draft is the configuration the broker has.').waitFor(T);
      assert.equal(await page.locator('tr[data-bridge="cloud"]').count(), 0);
      assert.deepEqual((await w.api('GET', '/broker/config')).body['config']['bridges'], [], 'previewed, never applied');
    });

    await t.test('390 px wide: the tables stack, nothing scrolls sideways', async () => {
      await page.setViewportSize({ width: 390, height: 844 });
      await page.locator('tr[data-listener="browsers"]').waitFor(T);
      assert.ok(await noHorizontalScroll(page), 'no horizontal scroll at 390 px');
      await toTop(page);
      await w.screenshot(page, 'broker-mobile');
      await page.getByRole('button', { name: 'Upload a certificate' }).click();
      await page.getByLabel('Certificate (PEM)').waitFor(T);
      assert.ok(await noHorizontalScroll(page), 'the upload form fits too');
      assert.deepEqual(consoleErrors, [], 'no CSP violation or script error');
    });
  });
});
