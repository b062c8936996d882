/**
 * Single sign-on with OpenID Connect (issue 17) in a real Chromium, against a real OpenID Provider
 * started here: oidc-provider (a certified implementation) with a static client for MCM (PKCE
 * required), users carrying a `groups` claim, and its development login and consent pages. MCM
 * is the whole server (tests/helpers/browser.ts) with auth.oidc pointing at it over loopback http.
 *
 * Shown: sign-in lands on the dashboard with the role the groups map to; another user gets
 * another role; a user with no mapped group is refused with a clear message; the role follows a
 * change of groups at the next sign-in; a tampered ID token (payload changed, signature kept, in
 * the token endpoint's answer) and a wrong `state` are refused; sign-out makes the old session
 * token unusable.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { describe, it, type TestContext } from 'node:test';
import Provider, { type Account } from 'oidc-provider';
import type { Page } from 'playwright-core';
import { OIDC_DEFAULTS } from '../../adapters/config/oidc-config.ts';
import { startUiWorld, type UiWorld } from '../helpers/browser.ts';
import { freePort } from '../helpers/ports.ts';

const T = { timeout: 15_000 };
const CLIENT_SECRET = 'mcm-test-client-secret-0123456789';
const SECRET_ENV = 'MCM_TEST_OIDC_CLIENT_SECRET';
const IDP_NAME = 'Test IdP';

type Idp = {
  issuer: string;
  /** Groups per account; edited to show the role is re-evaluated at each sign-in. */
  groups: Map<string, string[]>;
  /** When set, the next token response carries an ID token whose payload was changed (signature kept). */
  tamperNext: boolean;
};

/** Changes the ID token's payload (groups → an admin group) and keeps the old signature. */
const tamper = (idToken: string): string => {
  const [header, payload, signature] = idToken.split('.');
  const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
  claims['groups'] = ['mcm-admins'];
  return `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
};

const startIdp = async (t: TestContext, redirectUri: string): Promise<Idp> => {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'test-key', use: 'sig', alg: 'RS256' };
  const idp: Idp = { issuer, groups: new Map(), tamperNext: false };
  const provider = new Provider(issuer, {
    clients: [{
      client_id: 'mcm', client_secret: CLIENT_SECRET, redirect_uris: [redirectUri],
      grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic',
    }],
    pkce: { required: () => true },
    features: { devInteractions: { enabled: true } },
    scopes: ['openid', 'profile', 'email', 'groups'],
    claims: { openid: ['sub'], profile: ['preferred_username', 'name'], email: ['email'], groups: ['groups'] },
    // The groups go into the ID token itself (what MCM reads), not only into userinfo.
    conformIdTokenClaims: false,
    jwks: { keys: [jwk] },
    cookies: { keys: ['oidc-test-cookie-key-0123456789'] },
    ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 600, Session: 3600, Grant: 3600 },
    findAccount: async (_ctx: unknown, id: string): Promise<Account | undefined> => (idp.groups.has(id)
      ? { accountId: id, claims: async () => ({ sub: id, preferred_username: id, name: id, email: `${id}@example.test`, groups: idp.groups.get(id) }) }
      : undefined),
  });
  const handle = provider.callback();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (idp.tamperNext && req.method === 'POST' && req.url === '/token') {
      idp.tamperNext = false;
      // Koa answers with one res.end(body) and sends no header before it: rewrite the body there.
      const end = res.end.bind(res) as (chunk?: unknown) => ServerResponse;
      res.end = ((chunk?: unknown) => {
        const body = JSON.parse(String(chunk)) as Record<string, unknown>;
        if (typeof body['id_token'] === 'string') body['id_token'] = tamper(body['id_token']);
        const text = JSON.stringify(body);
        res.setHeader('content-length', Buffer.byteLength(text));
        return end(text);
      }) as ServerResponse['end'];
    }
    handle(req, res);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }));
  return idp;
};

/** "Sign in with Test IdP", then the provider's development login (any password) and consent pages. */
const ssoAtProvider = async (page: Page, w: UiWorld, account: string): Promise<void> => {
  await page.goto(w.base);
  await page.getByRole('button', { name: `Sign in with ${IDP_NAME}`, exact: true }).click();
  await page.locator('input[name=login]').fill(account);
  await page.locator('input[name=password]').fill('any password');
  await page.getByRole('button', { name: 'Sign-in' }).click();
  await page.getByRole('button', { name: 'Continue' }).click();
};

const signedInAs = async (page: Page, username: string, role: string): Promise<void> => {
  await page.getByRole('navigation', { name: 'Main' }).waitFor(T);
  const header = page.locator('header');
  await header.getByText(username, { exact: true }).waitFor(T);
  assert.equal(await header.locator('.badge').getAttribute('data-role'), role);
};

const refusal = (page: Page) => page.getByRole('alert');

const sessionToken = async (page: Page): Promise<string> =>
  page.evaluate(() => (JSON.parse((globalThis as unknown as { sessionStorage: { getItem(k: string): string | null } }).sessionStorage.getItem('mcm.session') ?? '{}') as { token: string }).token);

describe('web UI: single sign-on with OpenID Connect (oidc-provider)', () => {
  it('signs in with the groups\' role, refuses unmapped users, tampered tokens and wrong state, and signs out', async (t) => {
    const mcmPort = await freePort();
    const redirect = `http://127.0.0.1:${mcmPort}/api/v1/auth/oidc/callback`;
    const idp = await startIdp(t, redirect);
    idp.groups.set('alice', ['staff', 'mcm-operators']);
    idp.groups.set('bob', ['mcm-auditors']);
    idp.groups.set('carol', ['staff']);
    process.env[SECRET_ENV] = CLIENT_SECRET;
    t.after(() => { delete process.env[SECRET_ENV]; });
    const w = await startUiWorld(t, {
      config: {
        http: { port: mcmPort },
        auth: {
          oidc: {
            ...OIDC_DEFAULTS,
            issuer: idp.issuer, client_id: 'mcm', client_secret_env: SECRET_ENV, redirect_url: redirect,
            scopes: ['openid', 'profile', 'email', 'groups'], display_name: IDP_NAME,
            role_mapping: { 'mcm-admins': 'admin', 'mcm-operators': 'operator', 'mcm-auditors': 'auditor' },
          },
        },
      },
    });
    if (!w) return;

    await t.test('the login screen offers "Sign in with Test IdP"; alice lands on the dashboard as operator', async () => {
      const page = await w.newPage();
      await page.goto(w.base);
      await page.getByRole('button', { name: `Sign in with ${IDP_NAME}`, exact: true }).waitFor(T);
      await w.screenshot(page, 'login-sso');
      await ssoAtProvider(page, w, 'alice');
      await signedInAs(page, 'alice', 'operator');
      await page.getByRole('heading', { name: 'Dashboard' }).waitFor(T);
      // The session came through the exchange: no token or code left in the address bar.
      assert.equal(new URL(page.url()).search, '');
      // No MCM password or second factor to manage: the Account screen says where they live.
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Account', exact: true }).click();
      await page.getByTestId('sso-account').waitFor(T);
      assert.equal(await page.getByRole('heading', { name: 'Change password' }).count(), 0);
    });

    await t.test('bob, in another group, gets that group\'s role', async () => {
      const page = await w.newPage();
      await ssoAtProvider(page, w, 'bob');
      await signedInAs(page, 'bob', 'auditor');
    });

    await t.test('carol, in no mapped group, is refused with a clear message and a security event', async () => {
      const page = await w.newPage();
      await ssoAtProvider(page, w, 'carol');
      await refusal(page).getByText(`your ${IDP_NAME} account "carol" is in no group that gives a role in MCM`).waitFor(T);
      await page.getByRole('heading', { name: 'Sign in to MCM' }).waitFor(T);
      assert.equal(w.server.store.state().adminUsers['carol'], undefined);
      const events = await w.api('GET', '/security/events?category=auth.sso_failed');
      assert.ok((events.body['items'] as { actor: string }[]).some((e) => e.actor === 'carol'), JSON.stringify(events.body));
    });

    await t.test('the role is re-evaluated at the next sign-in after the provider\'s groups change', async () => {
      idp.groups.set('alice', ['mcm-admins']);
      const page = await w.newPage();
      await ssoAtProvider(page, w, 'alice');
      await signedInAs(page, 'alice', 'admin');
      const audit = await w.api('GET', '/audit-events?limit=5');
      const row = (audit.body['items'] as { action: string; actor: { id: string }; data: { role?: string } }[]).find((r) => r.action === 'AdminUserRoleChanged');
      assert.equal(row?.actor.id, 'alice');
      assert.equal(row?.data.role, 'admin');
    });

    await t.test('an ID token whose payload was changed (bad signature) is refused', async () => {
      const page = await w.newPage();
      idp.tamperNext = true;
      await ssoAtProvider(page, w, 'bob');
      await refusal(page).getByText(`the sign-in with ${IDP_NAME} was refused`).waitFor(T);
      assert.match((await refusal(page).allInnerTexts()).join(' '), /signature/i);
      assert.equal(idp.tamperNext, false, 'the token response went through the tampering server');
      assert.equal(w.server.store.state().adminUsers['bob']?.role, 'auditor', 'the forged groups did not make bob an admin');
    });

    await t.test('a callback with a wrong state is refused', async () => {
      const page = await w.newPage();
      // The provider echoes whatever state it is given: forge it on the way there.
      await page.route(`${idp.issuer}/auth?*`, async (route) => {
        const url = new URL(route.request().url());
        url.searchParams.set('state', 'forged-state');
        await route.continue({ url: url.href });
      });
      await ssoAtProvider(page, w, 'bob');
      await refusal(page).getByText(/unexpected "state"/).waitFor(T);
      await page.getByRole('heading', { name: 'Sign in to MCM' }).waitFor(T);
    });

    await t.test('sign-out ends the session: the old token gets 401', async () => {
      const page = await w.newPage();
      await ssoAtProvider(page, w, 'bob');
      await signedInAs(page, 'bob', 'auditor');
      const token = await sessionToken(page);
      const before = await fetch(`${w.base}/api/v1/auth/me`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(before.status, 200);
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('heading', { name: 'Sign in to MCM' }).waitFor(T);
      await page.getByText('You signed out.').waitFor(T);
      // The UI drops the session at once and then tells the server (generous bound, not a timing assertion).
      const deadline = Date.now() + 10_000;
      let status = 0;
      while ((status = (await fetch(`${w.base}/api/v1/auth/me`, { headers: { authorization: `Bearer ${token}` } })).status) !== 401 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(status, 401);
      const audit = await w.api('GET', '/audit-events?limit=1');
      assert.equal((audit.body['items'] as { action: string; actor: { id: string } }[])[0]?.action, 'AdminUserSignedOut');
    });
  });
});
