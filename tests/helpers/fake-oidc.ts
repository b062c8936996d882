/**
 * A stand-in OpenID Provider for HTTP tests of the single sign-on routes (the real flow, with
 * oidc-provider and Chromium, is tests/e2e/ui-oidc.test.ts): `begin` makes the checks, `finish`
 * checks `state` as openid-client does and answers the claims registered for the code. The
 * `sso` helper walks start → callback → exchange with the cookies a browser would carry.
 */
import { randomUUID } from 'node:crypto';
import { OIDC_DEFAULTS, type OidcSettings } from '../../adapters/config/oidc-config.ts';
import { OidcFlowError, type OidcClaims, type OidcRelyingParty } from '../../adapters/http/auth/oidc-client.ts';
import type { TestApp, TestResponse } from './http.ts';

export const FAKE_ISSUER = 'https://idp.test';

export const fakeOidcSettings = (over: Partial<OidcSettings> = {}): OidcSettings => ({
  ...OIDC_DEFAULTS,
  issuer: FAKE_ISSUER,
  client_id: 'mcm',
  client_secret_env: 'MCM_TEST_OIDC_SECRET',
  redirect_url: 'https://mcm.test/api/v1/auth/oidc/callback',
  role_mapping: { 'mcm-admins': 'admin', 'mcm-operators': 'operator', 'mcm-auditors': 'auditor', 'mcm-viewers': 'viewer' },
  display_name: 'Test IdP',
  ...over,
});

export type FakeOidc = OidcRelyingParty & {
  /** The claims the provider vouches for when the browser comes back with `code`; an Error is a refused response. */
  users: Map<string, Record<string, unknown> | Error>;
};

export const createFakeOidc = (): FakeOidc => {
  const users = new Map<string, Record<string, unknown> | Error>();
  return {
    users,
    begin: async () => {
      const checks = { state: randomUUID(), nonce: randomUUID(), codeVerifier: randomUUID() };
      return { url: `${FAKE_ISSUER}/authorize?state=${checks.state}`, checks };
    },
    finish: async (url, checks) => {
      if (url.searchParams.get('state') !== checks.state) throw new OidcFlowError('refused', 'unexpected "state" response parameter value');
      const found = users.get(url.searchParams.get('code') ?? '');
      if (found === undefined) throw new OidcFlowError('refused', 'the provider answered invalid_grant');
      if (found instanceof Error) throw found;
      return { iss: FAKE_ISSUER, ...found } as OidcClaims;
    },
  };
};

const cookiePair = (res: TestResponse, name: string): string => {
  const line = res.headers.getSetCookie().find((c) => c.startsWith(`${name}=`));
  if (!line) throw new Error(`no ${name} cookie in ${JSON.stringify(res.headers.getSetCookie())}`);
  return line.split(';')[0] ?? '';
};

export type SsoSteps = { callback: TestResponse; resultCookie: string; exchange(): Promise<TestResponse> };

/** Chromium's Accept for a navigation. */
export const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8';

/** POST /auth/oidc/start as a browser would: the callback URL the provider would send it to with `code`, and the flow cookie. */
export const ssoStart = async (h: TestApp, code: string, state?: string): Promise<{ url: string; cookie: string }> => {
  const start = await h.request('POST', '/api/v1/auth/oidc/start');
  if (start.status !== 200) throw new Error(`start: ${start.status} ${start.text}`);
  const query = new URLSearchParams({ code, state: state ?? new URL(start.body.authorization_url as string).searchParams.get('state') ?? '' });
  return { url: `/api/v1/auth/oidc/callback?${query}`, cookie: cookiePair(start, 'mcm_oidc_flow') };
};

/** Start → callback (with `code`, and `state` unless given) as a browser would; `exchange` collects the result. */
export const ssoCallback = async (h: TestApp, code: string, opts: { state?: string; flowCookie?: string | null } = {}): Promise<SsoSteps> => {
  const started = await ssoStart(h, code, opts.state);
  const flow = opts.flowCookie === undefined ? started.cookie : opts.flowCookie;
  // What a browser sends when the provider redirects it back (a page, not JSON).
  const accept = { accept: BROWSER_ACCEPT };
  const callback = await h.request('GET', started.url, { headers: flow === null ? accept : { ...accept, cookie: flow } });
  const resultCookie = cookiePair(callback, 'mcm_oidc_result');
  return {
    callback, resultCookie,
    exchange: () => h.request('POST', '/api/v1/auth/oidc/exchange', { headers: { cookie: resultCookie } }),
  };
};

/** The whole sign-in; the exchange's answer. */
export const ssoSignIn = async (h: TestApp, code: string): Promise<TestResponse> => (await ssoCallback(h, code)).exchange();
