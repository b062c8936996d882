/**
 * Single sign-on with OpenID Connect (issue 17), all public (the provider vouches, MCM decides):
 *
 *   GET  /auth/providers      how people sign in here: password and/or "Sign in with <provider>"
 *   POST /auth/oidc/start     → {authorization_url}; the flow's state, nonce and PKCE verifier stay
 *                             here, bound to this browser by an HttpOnly cookie limited to the callback
 *   GET  /auth/oidc/callback  the provider sends the browser back: code redeemed, ID token checked,
 *                             user linked/created and role set (auth/oidc-sign-in.ts); answers a
 *                             small page that returns to the UI, the result waiting for one minute
 *                             behind another HttpOnly cookie limited to the exchange route
 *   POST /auth/oidc/exchange  the UI collects the result: an ordinary MCM session, or the refusal
 *   POST /auth/logout         sign-out (any sign-in): ends the caller's session (its token id is revoked)
 *
 * No token and no code in a URL MCM builds (DESIGN §9): the session JWT only ever travels in
 * the exchange's JSON body.
 */
import type Router from '@koa/router';
import type { Context } from 'koa';
import { handleCommand } from '../../../core/handle-command.ts';
import type { OidcSettings } from '../../config/oidc-config.ts';
import { actorOf, signedInAdmin } from '../auth/authenticate.ts';
import { adminUserOf, signIn, type LoginDeps } from '../auth/login.ts';
import { OidcFlowError, type OidcChecks, type OidcRelyingParty } from '../auth/oidc-client.ts';
import { recordRefusal, refused, ssoSignIn, type SsoOutcome, type SsoWho } from '../auth/oidc-sign-in.ts';
import { createOneTimeStore } from '../auth/one-time-store.ts';
import { createAuthServices } from '../auth/services.ts';
import type { HttpDeps } from '../deps.ts';
import { setEtag } from '../etag.ts';
import { HTTP_ERROR_CODES, HttpError } from '../errors.ts';
import { API_PREFIX, mountRoutes, type RouteSpec } from './route-spec.ts';

export const routes: readonly RouteSpec[] = [
  { method: 'GET', path: '/auth/providers', minRole: 'none' },
  { method: 'POST', path: '/auth/oidc/start', minRole: 'none' },
  { method: 'GET', path: '/auth/oidc/callback', minRole: 'none' },
  { method: 'POST', path: '/auth/oidc/exchange', minRole: 'none' },
  // Sign-out, for every kind of sign-in; an API token is no session to end.
  { method: 'POST', path: '/auth/logout', minRole: 'authenticated', tokens: 'never' },
];

const CALLBACK_PATH = `${API_PREFIX}/auth/oidc/callback`;
const EXCHANGE_PATH = `${API_PREFIX}/auth/oidc/exchange`;
const FLOW_COOKIE = 'mcm_oidc_flow';
const RESULT_COOKIE = 'mcm_oidc_result';
const FLOW_TTL_S = 600;
const RESULT_TTL_S = 60;
const ID = /^[A-Za-z0-9_-]{43}$/;
const BEARER = /^Bearer +(\S+)$/i;

const cookieOf = (ctx: Context, name: string): string | null => {
  const v = ctx.cookies.get(name);
  return v !== undefined && ID.test(v) ? v : null;
};

/** Set-Cookie by hand: Koa refuses `Secure` over the plain HTTP a TLS proxy forwards. */
const setCookie = (ctx: Context, name: string, value: string, path: string, maxAgeS: number, secure: boolean): void => {
  ctx.append('Set-Cookie', `${name}=${value}; Path=${path}; Max-Age=${maxAgeS}; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`);
};

/** The path prefix of the public callback URL ('' unless a proxy serves MCM under a sub-path). */
const prefixOf = (settings: OidcSettings | null): string => {
  if (settings === null) return '';
  const { pathname } = new URL(settings.redirect_url);
  return pathname.slice(0, pathname.length - CALLBACK_PATH.length);
};

/** The page the callback answers: back to the UI, which collects the result (no script: the CSP allows none inline). */
const returnPage = (target: string): string => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="0; url=${target}"><title>MCM sign-in</title></head>
<body><p>Returning to MCM… <a href="${target}">Continue</a></p></body></html>
`;

const notConfigured = (): HttpError =>
  new HttpError(404, HTTP_ERROR_CODES.SSO_NOT_CONFIGURED, 'single sign-on is not configured on this MCM (auth.oidc): sign in with a password');

export const registerOidcRoutes = (router: Router, httpDeps: HttpDeps): void => {
  const deps: LoginDeps & Pick<HttpDeps, 'commits'> = { ...httpDeps, auth: httpDeps.auth ?? createAuthServices(httpDeps) };
  const settings = httpDeps.config.auth.oidc;
  const rp: OidcRelyingParty | null = settings === null ? null : httpDeps.oidc ?? null;
  const flows = createOneTimeStore<OidcChecks>({ clock: deps.clock, ttlMs: FLOW_TTL_S * 1000, max: 10_000 });
  const results = createOneTimeStore<SsoOutcome>({ clock: deps.clock, ttlMs: RESULT_TTL_S * 1000, max: 10_000 });
  const secure = settings !== null && settings.redirect_url.startsWith('https:');
  // The cookies' paths as the browser sees them (behind a proxy's sub-path too).
  const prefix = prefixOf(settings);
  const who = (ctx: Context): SsoWho => ({ ip: String(ctx.state.clientIp ?? ctx.ip), requestId: String(ctx.state.requestId ?? '') });

  const callback = async (ctx: Context, s: OidcSettings, party: OidcRelyingParty): Promise<SsoOutcome> => {
    const flowId = cookieOf(ctx, FLOW_COOKIE);
    const checks = flowId === null ? null : flows.take(flowId);
    if (checks === null) {
      return recordRefusal(deps, who(ctx), refused(401, HTTP_ERROR_CODES.SSO_FAILED,
        'this sign-in was not started in this browser, took longer than 10 minutes or was already used: sign in again'), 'flow_unknown', null);
    }
    const callbackUrl = new URL(s.redirect_url);
    callbackUrl.search = ctx.querystring;
    try {
      return ssoSignIn(deps, s, await party.finish(callbackUrl, checks), who(ctx));
    } catch (err) {
      if (!(err instanceof OidcFlowError)) throw err;
      const outcome = err.kind === 'unavailable'
        ? refused(502, HTTP_ERROR_CODES.SSO_PROVIDER_UNAVAILABLE, `the sign-in with ${s.display_name} could not be completed: ${err.message}`)
        : refused(401, HTTP_ERROR_CODES.SSO_FAILED, `the sign-in with ${s.display_name} was refused: ${err.message}`);
      return recordRefusal(deps, who(ctx), outcome, err.kind === 'unavailable' ? 'provider_unavailable' : 'response_invalid', null);
    }
  };

  mountRoutes(router, routes, {
    'GET /auth/providers': (ctx) => {
      ctx.body = {
        password_login: settings?.password_login ?? true,
        oidc: rp === null || settings === null ? null : { display_name: settings.display_name },
      };
    },

    'POST /auth/oidc/start': async (ctx) => {
      if (rp === null || settings === null) throw notConfigured();
      let begun: Awaited<ReturnType<OidcRelyingParty['begin']>>;
      try {
        begun = await rp.begin();
      } catch (err) {
        if (!(err instanceof OidcFlowError)) throw err;
        throw new HttpError(502, HTTP_ERROR_CODES.SSO_PROVIDER_UNAVAILABLE, err.message);
      }
      setCookie(ctx, FLOW_COOKIE, flows.put(begun.checks), prefix + CALLBACK_PATH, FLOW_TTL_S, secure);
      ctx.body = { authorization_url: begun.url };
    },

    'GET /auth/oidc/callback': async (ctx) => {
      // No flow can have started: nothing for a browser to collect, so the usual error body (as
      // for an unknown route), whatever the client accepts.
      if (rp === null || settings === null) throw notConfigured();
      const outcome = await callback(ctx, settings, rp);
      setCookie(ctx, FLOW_COOKIE, '', prefix + CALLBACK_PATH, 0, secure);
      // A client that prefers JSON (a script, not a browser navigating back from the provider)
      // gets a refusal as every other route answers one: status, stable code, message.
      if (!outcome.ok && ctx.accepts('json', 'html') === 'json') throw new HttpError(outcome.status, outcome.code, outcome.message);
      setCookie(ctx, RESULT_COOKIE, results.put(outcome), prefix + EXCHANGE_PATH, RESULT_TTL_S, secure);
      const target = `${prefix}/?sso=done`;
      ctx.status = outcome.ok ? 200 : outcome.status;
      ctx.type = 'text/html; charset=utf-8';
      ctx.set('Cache-Control', 'no-store');
      ctx.body = returnPage(target);
    },

    // Session JWTs are stateless: sign-out records the token's id (AdminUserSignedOut) until it
    // expires, and authenticate.ts refuses it from the next request on. Other sessions stay.
    'POST /auth/logout': (ctx) => {
      const actor = actorOf(ctx);
      const { username } = signedInAdmin(ctx);
      const token = BEARER.exec(ctx.get('Authorization'))?.[1];
      const checked = token === undefined ? null : deps.auth.tokens.check(token);
      // The local CLI (`cli:<user>`) has no session token, and no admin user to record it on.
      if (checked?.ok && adminUserOf(deps.store.state(), username)) {
        const { jti, exp } = checked.claims;
        const command = { type: 'SignOutAdminUser', data: { username, sessionId: jti, expiresAt: new Date(exp * 1000).toISOString() } } as const;
        setEtag(ctx, handleCommand(deps, command, { actor }).seq);
      }
      ctx.status = 204;
    },

    'POST /auth/oidc/exchange': (ctx) => {
      const id = cookieOf(ctx, RESULT_COOKIE);
      const outcome = id === null ? null : results.take(id);
      setCookie(ctx, RESULT_COOKIE, '', prefix + EXCHANGE_PATH, 0, secure);
      ctx.set('Cache-Control', 'no-store');
      if (outcome === null) {
        throw new HttpError(401, HTTP_ERROR_CODES.SSO_NOTHING_PENDING, 'there is no single sign-on result to collect (none, already collected, or older than a minute): sign in again');
      }
      if (!outcome.ok) throw new HttpError(outcome.status, outcome.code, outcome.message);
      // The user as it is now: disabled or deleted within the minute means no session.
      const user = adminUserOf(deps.store.state(), outcome.username);
      if (!user || user.disabled) throw new HttpError(401, HTTP_ERROR_CODES.SSO_FAILED, `admin user "${outcome.username}" was removed or disabled during the sign-in`);
      ctx.body = signIn(deps, user);
    },
  });
};
