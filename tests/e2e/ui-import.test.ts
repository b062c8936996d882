/**
 * The Import screen in a real Chromium (issue 11, must show "UI import in Chromium"): an
 * external mosquitto running on hand-made files (mosquitto_passwd for two devices, a hand-written
 * acl_file) and MCM configured with those paths (reload by signal). MCM finds the files foreign
 * and writes nothing: every screen shows the adoption banner. An operator sees why they cannot
 * import; a malformed pasted file is refused with each bad line's file and line number and
 * nothing changes; the admin plans the configured files (counts, warnings), cancels once,
 * confirms, sees "applied" and the banner go; the devices still log in with their passwords;
 * planning again finds nothing to import. Light, dark and 390 px wide screenshots.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { startUiWorld, UI_PASSWORD, type Json } from '../helpers/browser.ts';
import { requireMosquitto, startMosquitto } from '../helpers/mosquitto.ts';
import { login } from '../helpers/mqtt-client.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const T = { timeout: 15_000 };

const DEVICES = [
  { username: 'sensor-1', password: 'sensor-one-pw' },
  { username: 'sensor-2', password: 'sensor-two-pw' },
] as const;

/** Hand-written, as an operator would: comments, blank lines, a pattern, a deny. */
const ACL = [
  '# plant sensors (a comment not directly above a rule: not kept, the plan warns)',
  '',
  '# every device reads its commands',
  'pattern read plant/cmd/%u',
  '',
  'user sensor-1',
  'topic write plant/line1/#',
  '',
  '# the second line',
  'user sensor-2',
  'topic readwrite plant/line2/#',
  'topic deny plant/line2/secret',
  '',
].join('\n');

/** Console errors other than failed HTTP answers (a refused import is a 400 on purpose): CSP violations, exceptions. */
const watchConsole = (page: Page): string[] => {
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) errors.push(m.text());
  });
  return errors;
};

const nav = (page: Page, label: string) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: label, exact: true }).click();

const until = async (what: string, check: () => Promise<boolean>) => {
  const deadline = Date.now() + 20_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 150));
  }
};

/** The page is no wider than the viewport (the Node type-check has no DOM lib: the shape is declared here). */
type Win = { innerWidth: number; document: { documentElement: { scrollWidth: number } } };
const noHorizontalScroll = (page: Page) => page.evaluate(() => {
  const w = globalThis as unknown as Win;
  return w.document.documentElement.scrollWidth <= w.innerWidth;
});

describe('web UI: import an existing Mosquitto', () => {
  it('banner → plan → refused lines → confirm → applied → banner gone, devices keep their passwords', async (t) => {
    const bin = requireMosquitto(t);
    if (!bin) return;
    const dir = tempDir(t, 'mcm-ui-import-');
    chmodSync(dir, 0o755);
    const passwd = join(dir, 'passwd');
    const acl = join(dir, 'acl');
    // The operator's files, made by hand: mosquitto_passwd for the devices, an acl written in an editor.
    writeFileSync(passwd, '', { mode: 0o644 });
    for (const d of DEVICES) {
      const r = spawnSync('mosquitto_passwd', ['-b', passwd, d.username, d.password]);
      assert.equal(r.status, 0, `mosquitto_passwd: ${r.stderr?.toString()}`);
    }
    writeFileSync(acl, ACL, { mode: 0o644 });
    const passwdBefore = readFileSync(passwd, 'utf8');
    const broker = await startMosquitto(t, bin, { dir, lines: ['allow_anonymous false', `password_file ${passwd}`, `acl_file ${acl}`] });
    const pidFile = join(dir, 'mosquitto.pid');
    writeFileSync(pidFile, `${broker.pid}\n`);
    assert.ok((await login(t, broker.port, 'sensor-1', 'sensor-one-pw')).ok, 'the device logs in before MCM');

    const w = await startUiWorld(t, {
      config: {
        mqtt: { port: broker.port },
        mosquitto: { mode: 'external', password_file: passwd, acl_file: acl, reload: { strategy: 'signal', pid_file: pidFile } },
      },
    });
    if (!w) return;
    const before = (await w.api('GET', '/apply-status')).body;
    assert.equal(before['state'], 'adoption_required', `MCM found the foreign files: ${JSON.stringify(before)}`);
    assert.equal(readFileSync(passwd, 'utf8'), passwdBefore, 'MCM wrote nothing over the foreign file');

    const operator = await w.adminUser('operator', 'ui-operator');
    const page = await w.newPage();
    const consoleErrors = watchConsole(page);

    await t.test('an operator sees the banner and why they cannot import', async () => {
      await w.signIn(page, operator, UI_PASSWORD);
      const banner = page.getByTestId('adoption-banner');
      await banner.waitFor(T);
      assert.match(await banner.innerText(), /An admin imports them/);
      assert.equal(await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Import', exact: true }).count(), 0, 'no Import link for an operator');
      await page.goto(`${w.base}/import`);
      await page.getByText('This page needs the admin role (you are operator).').waitFor(T);
      const res = await w.api('POST', '/import', { mode: 'plan' }, operator);
      assert.equal(res.status, 403, 'the server refuses an operator too');
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('heading', { name: 'Sign in to MCM' }).waitFor(T);
    });

    await t.test('every screen shows the banner; it leads an admin to the Import screen', async () => {
      await w.signIn(page);
      const banner = page.getByTestId('adoption-banner');
      await banner.waitFor(T);
      const text = await banner.innerText();
      assert.match(text, /Adoption required/);
      assert.ok(text.includes(passwd) && text.includes(acl), text);
      await page.getByTestId('apply-card').getByText('adoption required').waitFor(T);
      await w.screenshot(page, 'import-banner');
      await nav(page, 'MQTT users');
      await banner.waitFor(T);
      await banner.getByRole('link', { name: 'Review and import these files' }).click();
      await page.getByRole('heading', { name: 'Import broker files' }).waitFor(T);
      assert.equal(new URL(page.url()).pathname, '/import');
      await page.getByTestId('import-apply-state').getByText('adoption required').waitFor(T);
    });

    const head = async (): Promise<number> => ((await w.api('GET', '/apply-status')).body['desired_seq'] as number);

    await t.test('a malformed pasted file: each bad line with its file and line number, nothing changed', async () => {
      const seqBefore = (await w.api('GET', '/audit-events', undefined)).body;
      const desiredBefore = await head();
      const goodLine = passwdBefore.split('\n')[0] as string;
      const badPasswd = `${goodLine}\nplain-user:secret\n:no-name\n`;
      const badAcl = 'user sensor-1\ntopic\tread plant/#\nTopic read plant/x\ntopic read ok/topic\n';
      await page.getByLabel('Paste or upload a password file and an ACL file').check();
      await page.getByLabel(/^Password file/).fill(badPasswd);
      await page.getByLabel(/^ACL file/).fill(badAcl);
      // Keyboard: the plan button is reachable and works with Enter.
      await page.getByRole('button', { name: 'Plan the import' }).focus();
      await page.keyboard.press('Enter');
      await page.getByTestId('import-invalid').waitFor(T);
      const expected = await w.api('POST', '/import', { mode: 'plan', password_file: badPasswd, acl_file: badAcl });
      assert.equal(expected.status, 400);
      assert.equal(expected.body['error']['code'], 'MCM_ERR_IMPORT_INVALID');
      const details = expected.body['error']['details'] as { file: string; line: number; message: string }[];
      assert.ok(details.some((d) => d.file === 'password_file' && d.line === 2), JSON.stringify(details));
      assert.ok(details.some((d) => d.file === 'acl_file' && d.line === 2), JSON.stringify(details));
      const rows = await page.getByTestId('import-problems').locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent?.trim() ?? '')));
      assert.equal(rows.length, details.length, 'every refused line is listed');
      for (const d of details) {
        const label = d.file === 'password_file' ? 'Password file' : d.file === 'acl_file' ? 'ACL file' : 'mosquitto.conf';
        assert.ok(rows.some((r) => r[0] === label && r[1] === String(d.line) && r[2] === d.message), `${label} line ${d.line} shown`);
      }
      assert.equal(await page.getByRole('button', { name: /Apply the import/ }).count(), 0, 'nothing to apply from a refused plan');
      await w.screenshot(page, 'import-invalid');
      assert.equal(await head(), desiredBefore, 'nothing appended');
      assert.equal((await w.api('GET', '/audit-events', undefined)).body['items']?.[0]?.['seq'], seqBefore['items']?.[0]?.['seq']);
      assert.equal((await w.api('GET', '/apply-status')).body['state'], 'adoption_required');
      assert.equal(readFileSync(passwd, 'utf8'), passwdBefore, 'the broker file is untouched');
    });

    let plan: Json = {};
    await t.test('the configured files: plan shows the counts and every warning', async () => {
      await page.getByLabel(/The files MCM is configured with/).check(T);
      assert.equal(await page.getByTestId('import-plan').count(), 0, 'changing the source drops the old plan');
      await page.getByRole('button', { name: 'Plan the import' }).click();
      const summary = page.getByTestId('import-summary');
      await summary.waitFor(T);
      plan = (await w.api('POST', '/import', { mode: 'plan' })).body;
      assert.equal(plan['summary']['users_in_files'], 2);
      assert.equal(plan['summary']['users_created'], 2);
      const count = async (key: string) => (await summary.locator(`li[data-key="${key}"] strong`).innerText()).trim();
      assert.equal(await count('users_in_files'), '2');
      assert.equal(await count('users_created'), '2');
      assert.equal(await count('rules_in_files'), String(plan['summary']['rules_in_files']));
      assert.equal(await count('rules_added'), String(plan['summary']['rules_added']));
      const warnings = plan['warnings'] as { code: string; message: string }[];
      assert.ok(warnings.length > 0, 'comments and blank lines are not kept: the plan warns');
      const shown = await page.getByTestId('import-warnings').locator('li').count();
      assert.equal(shown, Math.min(warnings.length, 50 * new Set(warnings.map((x) => x.code)).size));
      for (const x of warnings) await page.getByTestId('import-warnings').getByText(x.message).first().waitFor(T);
      const diffs = page.getByTestId('import-differences').locator('li');
      assert.equal(await diffs.count(), (plan['differences'] as unknown[]).length);
      await page.getByText(passwd).first().waitFor(T);
      assert.ok(await noHorizontalScroll(page));
      await w.screenshot(page, 'import-plan');
      await page.getByRole('button', { name: 'Toggle light and dark theme' }).click();
      await w.screenshot(page, 'import-plan-dark');
      await page.getByRole('button', { name: 'Toggle light and dark theme' }).click();
      await page.setViewportSize({ width: 390, height: 844 });
      assert.ok(await noHorizontalScroll(page), 'no horizontal scroll at 390 px');
      await w.screenshot(page, 'import-mobile');
      await page.setViewportSize({ width: 1280, height: 860 });
    });

    await t.test('apply needs the confirmation; then applied, the banner goes, the devices keep their passwords', async () => {
      const desiredBefore = await head();
      await page.getByRole('button', { name: 'Apply the import…' }).click();
      const dialog = page.getByRole('dialog', { name: 'Apply the import?' });
      await dialog.waitFor(T);
      assert.match(await dialog.innerText(), /create 2 users/);
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      await dialog.waitFor({ state: 'detached', ...T });
      assert.equal(await head(), desiredBefore, 'cancelled: nothing applied');

      await page.getByRole('button', { name: 'Apply the import…' }).click();
      await dialog.waitFor(T);
      await w.screenshot(page, 'import-confirm');
      await dialog.getByRole('button', { name: 'Apply the import' }).click();
      await page.getByTestId('import-applied').waitFor(T);
      assert.equal(await page.locator('mcm-app .notice').count(), 0, 'one notice per action: the outcome, no toast besides');
      await page.locator('access-apply-status [data-phase="applied"]').waitFor({ timeout: 20_000 });
      await page.getByTestId('adoption-banner').waitFor({ state: 'detached', timeout: 20_000 });
      await page.getByRole('button', { name: 'Refresh the broker status' }).click();
      await page.getByTestId('import-apply-state').getByText('applied').waitFor(T);
      await w.screenshot(page, 'import-applied');
      const st = (await w.api('GET', '/apply-status')).body;
      assert.equal(st['state'], 'applied');
      assert.ok(st['desired_seq'] > desiredBefore);
      for (const d of DEVICES) assert.ok((await login(t, broker.port, d.username, d.password)).ok, `${d.username} still logs in`);
      const users = (await w.api('GET', '/mqtt-users', undefined)).body['items'] as { username: string }[];
      assert.deepEqual(users.map((u) => u.username).filter((u) => u.startsWith('sensor-')).sort(), ['sensor-1', 'sensor-2']);
      // Banner gone on every screen.
      await nav(page, 'Dashboard');
      await page.getByTestId('apply-card').getByText('applied', { exact: true }).waitFor(T);
      assert.equal(await page.getByTestId('adoption-banner').count(), 0);
      // MCM's service account is in the files now: the observer logs in and reads the version from $SYS.
      await page.getByTestId('broker-version').filter({ hasText: /mosquitto version 2\.\d+/ }).waitFor({ timeout: 20_000 });
      await w.screenshot(page, 'import-dashboard-after');
    });

    await t.test('the audit log shows the adoption record in words', async () => {
      await nav(page, 'Audit');
      await page.getByLabel('Type').selectOption('BrokerFilesAdopted');
      await page.getByRole('button', { name: 'Filter', exact: true }).click();
      const rows = page.getByTestId('audit-table').locator('tbody tr[data-seq]');
      await rows.first().waitFor(T);
      assert.equal(await rows.count(), 1);
      assert.match(await rows.first().locator('td:nth-child(3)').innerText(), /\(import\)$/, 'actor kind import');
      await rows.first().getByRole('button', { name: /Details/ }).click();
      const record = page.getByTestId('adoption-record');
      await record.waitFor(T);
      const text = await record.innerText();
      assert.match(text, /imported/);
      assert.ok(text.includes(`password_file ${passwd}`) && text.includes(`acl_file ${acl}`), text);
    });

    await t.test('planning again finds nothing to import (the import is a fixpoint)', async () => {
      await nav(page, 'Import');
      await page.getByRole('button', { name: 'Plan the import' }).click();
      await page.getByTestId('import-nothing').waitFor(T);
      assert.equal(await page.getByRole('button', { name: /Apply the import/ }).count(), 0);
      assert.deepEqual(consoleErrors, [], 'no CSP violation or script error');
    });
  });
});
