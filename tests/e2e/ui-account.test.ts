/**
 * The account, audit, security, admin-user and webhook screens in a real Chromium against a real
 * server (supervised mosquitto, ws hub, webhook dispatcher), one world, step by step:
 * MFA enrolment on the account page (secret read from the page, TOTP computed here with otplib)
 * and sign-ins through the login screen with a TOTP code and with a recovery code; the audit log
 * listing what those steps appended, the chain verified, a live row, time travel to an earlier
 * state; security events with a live row and filters; an admin creating admin users and a
 * webhook (secret shown once, and it really signs the deliveries); the server refusing to demote
 * the last active admin; an auditor seeing admin users without any write action.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generate } from 'otplib';
import type { Page } from 'playwright-core';
import { verifySignature } from '../../adapters/webhooks/signature.ts';
import { startReceiver } from '../adapters/webhook-receiver.ts';
import { startUiWorld, UI_PASSWORD, type UiWorld } from '../helpers/browser.ts';

const T = { timeout: 15_000 };

/** The part of HTMLCanvasElement the check uses (the Node type-check has no DOM lib). */
type Canvas = { width: number; height: number; getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } | null };

/** Console errors other than failed HTTP answers (the app shows those; 4xx are expected here): CSP violations, exceptions. */
const watchConsole = (page: Page): string[] => {
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) errors.push(m.text());
  });
  return errors;
};

const nav = (page: Page, label: string) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: label, exact: true }).click();

const signOut = async (page: Page) => {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('heading', { name: 'Sign in to MCM' }).waitFor(T);
};

/** Password step of the login screen; the MFA step follows when the account has MFA. */
const passwordStep = async (page: Page, w: UiWorld, username: string) => {
  await page.goto(w.base);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(UI_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
};

const etagSeq = (etag: string | null): number => Number(/"(\d+)"/.exec(etag ?? '')?.[1]);

/** Polls the page until `check` holds (generous bound, not a timing assertion). */
const until = async (what: string, check: () => Promise<boolean>) => {
  const deadline = Date.now() + 15_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 150));
  }
};

describe('web UI: account, audit, security events, admin users, webhooks', () => {
  it('enrols MFA, signs in with TOTP and a recovery code, audits it, manages admins and webhooks', async (t) => {
    const receiver = await startReceiver(t);
    const w = await startUiWorld(t, { config: { webhooks: { allow_private: true } } });
    if (!w) return;
    const mfaUser = await w.adminUser('admin', 'ui-mfa');
    const auditor = await w.adminUser('auditor', 'ui-auditor');
    const page = await w.newPage();
    const consoleErrors = watchConsole(page);
    let secret = '';
    let recoveryCodes: string[] = [];

    await t.test('account: MFA enrolment shows a QR code on a canvas, the secret and 10 recovery codes; a code turns it on', async () => {
      await w.signIn(page, mfaUser);
      await nav(page, 'Account');
      await page.getByRole('heading', { name: 'Account' }).waitFor(T);
      await page.getByTestId('mfa-state').getByText('off').waitFor(T);
      await w.screenshot(page, 'account');

      await page.getByLabel('Password', { exact: true }).fill(UI_PASSWORD);
      await page.getByRole('button', { name: 'Set up two-factor sign-in' }).click();
      const secretText = page.getByTestId('mfa-secret');
      await secretText.waitFor(T);
      secret = (await secretText.innerText()).replace(/\s+/g, '');
      assert.match(secret, /^[A-Z2-7]{32}$/);
      recoveryCodes = await page.getByTestId('recovery-codes').locator('li').allInnerTexts();
      assert.equal(recoveryCodes.length, 10);
      // The QR code is drawn on the canvas (no data: image, which the CSP forbids): dark and light modules.
      const qr = page.getByTestId('mfa-qr');
      await until('the QR code to be drawn', async () => (await qr.evaluate((c: Canvas) => {
        const d = c.getContext('2d')?.getImageData(0, 0, c.width, c.height).data ?? new Uint8ClampedArray();
        let dark = 0;
        for (let i = 0; i < d.length; i += 4) if ((d[i] ?? 255) < 64) dark += 1;
        const share = dark / (d.length / 4);
        return share > 0.2 && share < 0.8;
      })));
      assert.equal(await page.locator('img[src^="data:"]').count(), 0);
      assert.equal(await page.locator('.banner.error').count(), 0);
      await w.screenshot(page, 'mfa-enrolment');

      await page.getByLabel('Code from the app').fill(await generate({ secret }));
      await page.getByRole('button', { name: 'Verify and turn on' }).click();
      await page.getByTestId('mfa-state').getByText('on', { exact: true }).waitFor(T);
      assert.match(await page.getByTestId('recovery-left').innerText(), /10 recovery codes left/);
      assert.equal(await page.getByTestId('mfa-secret').count(), 0, 'the secret is gone once verified');
      // Still signed in: the fresh token replaced the revoked one, and the live connection is back.
      await page.getByText('live open').waitFor(T);
      assert.equal(await page.getByRole('heading', { name: 'Sign in to MCM' }).count(), 0);
    });

    await t.test('login: the password, then a TOTP code from the next step (the verify code is spent)', async () => {
      await signOut(page);
      await passwordStep(page, w, mfaUser);
      const code = page.getByLabel('Code');
      await code.waitFor(T);
      // Replay protection refuses the step the verify used and every earlier one; the server
      // accepts one step of clock skew, so the next step's code is good now.
      await code.fill(await generate({ secret, epoch: Math.floor(Date.now() / 1000) + 30 }));
      await page.getByRole('button', { name: 'Verify' }).click();
      await page.getByRole('navigation', { name: 'Main' }).waitFor(T);
      assert.match(await page.locator('header').innerText(), /ui-mfa/);
    });

    await t.test('login: a recovery code works once', async () => {
      await signOut(page);
      await passwordStep(page, w, mfaUser);
      await page.getByLabel('Code').fill(recoveryCodes[0] as string);
      await page.getByRole('button', { name: 'Verify' }).click();
      await page.getByRole('navigation', { name: 'Main' }).waitFor(T);
      await nav(page, 'Account');
      await page.getByTestId('recovery-left').getByText('9 recovery codes left').waitFor(T);
    });

    let createdSeq = 0;
    await t.test('audit: the chain is verified, the MFA events are listed, a new event arrives live', async () => {
      await nav(page, 'Audit');
      await page.getByTestId('chain-status').getByText(/Hash chain verified: \d+ events/).waitFor(T);
      await page.getByLabel('Actor').fill(mfaUser);
      await page.getByRole('button', { name: 'Filter', exact: true }).click();
      const table = page.getByTestId('audit-table');
      await table.getByText('MfaRecoveryCodeUsed').waitFor(T);
      const rows = table.locator('tbody tr[data-seq]');
      const types = await rows.locator('td:nth-child(4)').allInnerTexts();
      // The two sign-outs before the TOTP and recovery-code sign-ins are recorded too (POST /auth/logout).
      assert.deepEqual(types, ['MfaRecoveryCodeUsed', 'AdminUserSignedOut', 'AdminUserSignedOut', 'MfaEnabled', 'MfaEnrolmentStarted'], 'newest first, only this actor');
      assert.deepEqual(new Set(await rows.locator('td:nth-child(3)').allInnerTexts()), new Set([mfaUser]));
      await w.screenshot(page, 'audit');

      // Details: the recorded data is redacted (no ciphertext, no code hashes).
      await rows.filter({ hasText: 'MfaEnrolmentStarted' }).getByRole('button', { name: /Details/ }).click();
      const data = await page.getByTestId('event-data').innerText();
      assert.match(data, /"secretCiphertext": "\[redacted\]"/);
      assert.match(data, /"recoveryCodeHashes": "\[redacted\]"/);
      await page.getByText('not part of the broker configuration').waitFor(T);

      await page.getByRole('button', { name: 'Clear filters' }).click();
      await table.getByText('AdminUserCreated').first().waitFor(T);
      const res = await w.api('POST', '/mqtt-users', { username: 'tt-1', password: 'tt-1-password-123' });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      createdSeq = etagSeq(res.etag);
      // Prepended live, without a reload.
      const fresh = table.locator(`tr[data-seq="${createdSeq}"]`);
      await fresh.getByText('new', { exact: true }).waitFor(T);
      assert.equal(await rows.first().getAttribute('data-seq'), String(createdSeq));
      assert.match(await fresh.innerText(), /MQTT user "tt-1" created/);
      await page.getByRole('button', { name: 'Theme' }).click();
      await w.screenshot(page, 'audit-dark');
      await page.getByRole('button', { name: 'Theme' }).click();
    });

    await t.test('audit: before/after of an event and time travel to an earlier seq', async () => {
      const del = await w.api('DELETE', '/mqtt-users/tt-1');
      assert.equal(del.status, 204);
      const deletedSeq = etagSeq(del.etag);
      const table = page.getByTestId('audit-table');
      await table.locator(`tr[data-seq="${deletedSeq}"]`).waitFor(T);

      await table.locator(`tr[data-seq="${createdSeq}"]`).getByRole('button', { name: /Details/ }).click();
      const ba = page.getByTestId('before-after');
      await ba.waitFor(T);
      assert.match(await ba.locator('tr', { hasText: 'username' }).innerText(), /\(did not exist\)\s+tt-1/);
      await page.getByText('+1 / −0 lines').first().waitFor(T);
      await page.getByText('+ tt-1:[redacted]').waitFor(T);

      // The state after the creation, read-only: tt-1 exists there, though it is gone now.
      await page.getByLabel('Seq', { exact: true }).fill(String(createdSeq));
      await page.getByRole('button', { name: 'Show state' }).click();
      await page.getByRole('heading', { name: `State at seq ${createdSeq}` }).waitFor(T);
      const banner = page.getByTestId('travel-banner');
      await banner.waitFor(T);
      assert.match(await banner.innerText(), new RegExp(`state after seq ${createdSeq} \\(MqttUserCreated on mqtt-user:tt-1`));
      assert.match(await page.getByTestId('state-password-file').innerText(), /^tt-1:\[redacted\]$/m);
      await page.getByRole('region', { name: 'MQTT users at this seq' }).getByRole('cell', { name: 'tt-1', exact: true }).waitFor(T);
      await page.evaluate('window.scrollTo(0, 0)');
      await w.screenshot(page, 'audit-state-at-seq');

      await page.getByLabel('Seq', { exact: true }).fill(String(createdSeq - 1));
      await page.getByRole('button', { name: 'Show state' }).click();
      await page.getByRole('heading', { name: `State at seq ${createdSeq - 1}` }).waitFor(T);
      await page.getByTestId('state-password-file').waitFor(T);
      assert.doesNotMatch(await page.getByTestId('state-password-file').innerText(), /tt-1/);
      assert.equal((await w.api('GET', '/mqtt-users/tt-1')).status, 404, 'time travel changed nothing');

      await page.getByLabel('Seq', { exact: true }).fill(String(deletedSeq + 1000));
      await page.getByRole('button', { name: 'Show state' }).click();
      await page.getByText(/the log ends at seq \d+/).waitFor(T);
    });

    await t.test('security events: sign-ins listed, a failed sign-in arrives live, filters apply', async () => {
      await nav(page, 'Security');
      const table = page.getByTestId('security-table');
      await table.getByText('auth.login_succeeded').first().waitFor(T);
      const bad = await fetch(`${w.base}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: auditor, password: 'wrong-password-123' }) });
      assert.equal(bad.status, 401);
      const fresh = table.locator('tbody tr').first();
      await fresh.getByText('new', { exact: true }).waitFor(T);
      assert.match(await fresh.innerText(), /auth\.login_failed[\s\S]*ui-auditor/);
      await w.screenshot(page, 'security-events');

      await page.getByLabel('Severity').selectOption('info');
      await page.getByRole('button', { name: 'Filter', exact: true }).click();
      await page.getByText('(filtered)').waitFor(T);
      await until('only info rows', async () => {
        const sev = await table.locator('tbody tr td:nth-child(2)').allInnerTexts();
        return sev.length > 0 && sev.every((s) => s === 'info');
      });
    });

    await t.test('admin users: an admin creates an admin, changes a role, disables', async () => {
      await nav(page, 'Admin users');
      await page.getByRole('heading', { name: 'Create an admin user' }).waitFor(T);
      await page.getByLabel('Username').fill('ui-new-admin');
      await page.getByLabel('Password', { exact: true }).fill('new-admin-password-1');
      await page.locator('select[name="role"]').selectOption('admin');
      await page.getByRole('button', { name: 'Create admin user' }).click();
      const row = page.locator('tr[data-username="ui-new-admin"]');
      await row.locator('.badge[data-role="admin"]').waitFor(T);
      assert.equal((await w.api('GET', '/admin-users/ui-new-admin')).body['role'], 'admin');

      await row.getByRole('combobox', { name: 'Role of ui-new-admin' }).selectOption('operator');
      await row.getByRole('button', { name: 'Save role of ui-new-admin' }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Change role to operator' }).click();
      await row.locator('.badge[data-role="operator"]').waitFor(T);
      await row.getByRole('button', { name: 'Disable ui-new-admin' }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Disable' }).click();
      await row.getByText('disabled', { exact: true }).waitFor(T);
      const server = (await w.api('GET', '/admin-users/ui-new-admin')).body;
      assert.equal(server['role'], 'operator');
      assert.equal(server['disabled'], true);
      await w.screenshot(page, 'admin-users');
    });

    await t.test('webhooks: the secret is shown once and signs the deliveries; deliveries are listed', async () => {
      await nav(page, 'Webhooks');
      await page.getByLabel('URL').fill(receiver.url('/mcm'));
      await page.getByLabel('Description').fill('e2e receiver');
      assert.equal(await page.getByRole('checkbox', { name: /Admin changes/ }).isChecked(), true);
      await page.getByRole('checkbox', { name: /Security events/ }).check();
      await page.getByRole('button', { name: 'Add webhook' }).click();
      const shown = page.getByTestId('secret-value');
      await shown.waitFor(T);
      const hookSecret = (await shown.innerText()).trim();
      assert.ok(hookSecret.length >= 32, hookSecret);
      await page.getByRole('button', { name: 'Copy secret' }).waitFor(T);
      const row = page.locator('tr[data-webhook]').filter({ hasText: receiver.url('/mcm') });
      await row.getByText('security_event').waitFor(T);
      await w.screenshot(page, 'webhooks');

      const before = receiver.received.length;
      assert.equal((await w.api('POST', '/mqtt-users', { username: 'hook-trigger', password: 'hook-trigger-pass-1' })).status, 201);
      const got = await receiver.waitFor(before + 1);
      const hit = got.find((r) => r.body.includes('hook-trigger')) ?? got[got.length - 1];
      assert.ok(hit);
      assert.equal(verifySignature(hookSecret, hit.headers['x-mcm-signature'] as string, hit.body, 300), true, 'the secret shown is the one that signs');

      await row.getByRole('button', { name: /^Deliveries/ }).click();
      const deliveries = page.getByTestId('deliveries-table');
      await until('a delivered delivery with HTTP 200', async () => {
        if (await deliveries.count() === 0 || !/delivered/.test(await deliveries.innerText())) {
          await page.getByRole('button', { name: 'Refresh deliveries' }).click();
          return false;
        }
        return /\b200\b/.test(await deliveries.innerText());
      });

      await page.getByRole('button', { name: 'I have stored it' }).click();
      await page.reload();
      await page.getByRole('heading', { name: 'Webhooks', exact: true }).first().waitFor(T);
      await page.locator('tr[data-webhook]').first().waitFor(T);
      assert.equal(await page.getByText(hookSecret).count(), 0, 'never shown again');
    });

    await t.test('the server refuses to demote the last active admin, and the screen says why', async () => {
      await nav(page, 'Admin users');
      const admin = page.locator('tr[data-username="ui-admin"]');
      await admin.getByRole('button', { name: 'Disable ui-admin' }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Disable' }).click();
      await admin.getByText('disabled', { exact: true }).waitFor(T);
      // ui-mfa is now the only active admin.
      const me = page.locator('tr[data-username="ui-mfa"]');
      await me.getByRole('combobox', { name: 'Role of ui-mfa' }).selectOption('viewer');
      await me.getByRole('button', { name: 'Save role of ui-mfa' }).click();
      const dialog = page.getByRole('dialog');
      assert.match(await dialog.innerText(), /last active admin/);
      await dialog.getByRole('button', { name: 'Change role to viewer' }).click();
      const error = page.getByTestId('action-error');
      await error.waitFor(T);
      assert.match(await error.innerText(), /MCM_ERR_LAST_ADMIN/);
      assert.equal(await me.getByRole('combobox', { name: 'Role of ui-mfa' }).inputValue(), 'admin', 'the select shows the real role again');
      assert.equal(await page.getByRole('heading', { name: 'Sign in to MCM' }).count(), 0, 'still signed in');
    });

    await t.test('an auditor sees admin users but no write action', async () => {
      const other = await w.newPage();
      const otherErrors = watchConsole(other);
      await w.signIn(other, auditor);
      assert.equal(await other.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Webhooks' }).count(), 0);
      await nav(other, 'Admin users');
      const table = other.getByTestId('admin-users-table');
      await table.locator('tr[data-username="ui-mfa"]').waitFor(T);
      assert.match(await other.getByTestId('read-only-note').innerText(), /needs the admin role \(you are auditor\)/);
      assert.equal(await other.getByRole('heading', { name: 'Create an admin user' }).count(), 0);
      for (const name of [/Delete/, /Disable/, /Enable/, /Reset password/]) assert.equal(await other.getByRole('button', { name }).count(), 0, String(name));
      assert.equal(await other.getByRole('combobox').count(), 0);
      assert.deepEqual(otherErrors, []);

      // Their own password: changed on the account page, and this session goes on with the fresh token.
      await nav(other, 'Account');
      await other.getByLabel('Current password').fill(UI_PASSWORD);
      await other.getByLabel('New password', { exact: true }).fill('auditor-new-password-1');
      await other.getByLabel('New password again').fill('auditor-new-password-1');
      await other.getByRole('button', { name: 'Change password' }).click();
      await other.getByText('Password changed. Your other sessions were signed out.').waitFor(T);
      await other.getByText('live open').waitFor(T);
      await nav(other, 'Audit');
      await other.getByTestId('chain-status').getByText(/Hash chain verified/).waitFor(T);
      const old = await fetch(`${w.base}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: auditor, password: UI_PASSWORD }) });
      assert.equal(old.status, 401, 'the old password is gone');

      // A row edited behind MCM's back: the chain check names the first broken seq, prominently.
      w.server.deps.db.prepare('UPDATE events SET data = ? WHERE seq = 2').run(JSON.stringify({ username: 'ui-mfa', role: 'viewer', passwordHash: 'x' }));
      await other.getByRole('button', { name: 'Verify again' }).click();
      const alert = other.getByTestId('chain-status').getByRole('alert');
      await alert.getByText('Hash chain BROKEN at seq 2').waitFor(T);
      await w.screenshot(other, 'audit-chain-broken');
      assert.deepEqual(otherErrors, []);
    });

    assert.deepEqual(consoleErrors, [], 'no CSP violation or script error in the console');
  });
});
