/**
 * A whole MCM for browser tests (issue "The web UI", must show): the UI built by esbuild into the
 * test's temp dir, the real server (event log, apply loop, supervised mosquitto, HTTP + ws hub)
 * on free loopback ports, and Debian's Chromium driven by playwright-core. Everything is stopped
 * in t.after. In CI (CI=true) a missing Chromium or mosquitto is a failure, never a skip.
 *
 *   const w = await startUiWorld(t);            // null when skipped (no binaries, not CI)
 *   const page = await w.newPage();
 *   await w.signIn(page, 'admin');              // through the login screen
 *   await w.screenshot(page, 'dashboard');      // tests/e2e/screenshots/dashboard.png
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startHttp } from '../../adapters/http/start-http.ts';
import { buildUi } from '../../scripts/build-ui.ts';
import { requireMosquitto } from './mosquitto.ts';
import { startTestServer, type DeepPartial, type TestServer } from './mcm-server.ts';
import type { Config } from '../../adapters/config/config.ts';
import { freePort } from './ports.ts';
import { tempDir } from './temp-dir.ts';

export const CHROMIUM = '/usr/bin/chromium';
export const SCREENSHOT_DIR = fileURLToPath(new URL('../e2e/screenshots/', import.meta.url));

/** The first admin's credentials; `users` below are created through the API with the same password. */
export const UI_ADMIN = { username: 'ui-admin', password: 'ui-admin-password-123' };
export const UI_PASSWORD = 'ui-user-password-123';

export const requireChromium = (t: TestContext): string | null => {
  if (existsSync(CHROMIUM)) return CHROMIUM;
  if (process.env.CI === 'true') throw new Error(`Chromium is not installed at ${CHROMIUM}: run \`npm run setup\` (apt-get install chromium)`);
  t.skip(`Chromium not installed at ${CHROMIUM} (run npm run setup)`);
  return null;
};

export type Json = Record<string, any>;

export type UiWorld = {
  base: string;
  server: TestServer;
  browser: Browser;
  newPage(): Promise<Page>;
  /** Calls the API as `username` (UI_ADMIN by default). */
  api(method: string, path: string, body?: unknown, as?: string): Promise<{ status: number; body: Json; etag: string | null }>;
  /** Creates an admin user with `role` (password UI_PASSWORD) and returns its username. */
  adminUser(role: 'viewer' | 'auditor' | 'operator' | 'admin', username?: string): Promise<string>;
  /** Signs in through the login screen and waits for the dashboard shell. */
  signIn(page: Page, username?: string, password?: string): Promise<void>;
  screenshot(page: Page, name: string): Promise<void>;
  /** Polls GET /apply-status until applied_seq >= seq (generous bound, not a timing assertion). */
  waitApplied(seq: number): Promise<Json>;
};

export const startUiWorld = async (t: TestContext, opts: { config?: DeepPartial<Config> } = {}): Promise<UiWorld | null> => {
  const chrome = requireChromium(t);
  const bin = requireMosquitto(t);
  if (!chrome || !bin) return null;
  const uiDir = join(tempDir(t, 'mcm-ui-'), 'dist');
  await buildUi(uiDir);
  const httpPort = await freePort();
  const server = await startTestServer(t, bin, {
    config: {
      ...opts.config,
      http: { port: httpPort, ui_dir: uiDir, ...opts.config?.http },
      auth: { bcrypt_cost: 4, ...opts.config?.auth },
      bootstrap_admin: { username: UI_ADMIN.username, password: UI_ADMIN.password },
    },
  });
  const http = await startHttp(server.deps);
  t.after(() => http.close());
  const browser = await chromium.launch({
    executablePath: chrome,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  t.after(() => browser.close());
  const base = http.url;
  const tokens = new Map<string, string>();
  const passwords = new Map<string, string>([[UI_ADMIN.username, UI_ADMIN.password]]);

  const raw = async (method: string, path: string, body: unknown, token: string | null) => {
    const res = await fetch(`${base}/api/v1${path}`, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : {}) as Json, etag: res.headers.get('etag') };
  };
  const tokenFor = async (username: string): Promise<string> => {
    const known = tokens.get(username);
    if (known) return known;
    const res = await raw('POST', '/auth/login', { username, password: passwords.get(username) }, null);
    if (res.status !== 200 || typeof res.body['token'] !== 'string') throw new Error(`login of ${username} failed: ${JSON.stringify(res.body)}`);
    tokens.set(username, res.body['token']);
    return res.body['token'];
  };
  const world: UiWorld = {
    base, server, browser,
    newPage: async () => {
      const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
      const page = await context.newPage();
      // A CSP violation or an uncaught error in the app fails the test that caused it.
      page.on('pageerror', (err) => { throw new Error(`page error: ${err.message}`); });
      return page;
    },
    api: async (method, path, body, as = UI_ADMIN.username) => raw(method, path, body, await tokenFor(as)),
    adminUser: async (role, username = `ui-${role}`) => {
      const res = await world.api('POST', '/admin-users', { username, password: UI_PASSWORD, role });
      if (res.status !== 201) throw new Error(`creating admin ${username} failed: ${JSON.stringify(res.body)}`);
      passwords.set(username, UI_PASSWORD);
      return username;
    },
    signIn: async (page, username = UI_ADMIN.username, password = passwords.get(username) ?? UI_PASSWORD) => {
      await page.goto(base);
      await page.getByLabel('Username').fill(username);
      await page.getByLabel('Password').fill(password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('navigation', { name: 'Main' }).waitFor();
    },
    screenshot: async (page, name) => {
      mkdirSync(SCREENSHOT_DIR, { recursive: true });
      await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
    },
    waitApplied: async (seq) => {
      const deadline = Date.now() + 15_000;
      for (;;) {
        const st = (await world.api('GET', '/apply-status')).body;
        if (st['applied_seq'] >= seq || st['state'] === 'failed') return st;
        if (Date.now() > deadline) throw new Error(`apply of seq ${seq} not confirmed: ${JSON.stringify(st)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
  };
  return world;
};
