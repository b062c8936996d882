/**
 * The OpenID Provider as the sign-in routes see it (issue 17), and its adapter on `openid-client`
 * (v6, a certified relying party): discovery, the authorization code flow with PKCE (S256),
 * `state` and `nonce`, and ID token validation: `iss`, `aud`, `exp`, `nonce` (RFC 9207 / OIDC Core
 * §3.1.3.7) and, with enableNonRepudiationChecks, the signature against the issuer's JWKS — not
 * merely trusting the TLS channel to the token endpoint. The routes take the port, so their tests
 * can pass a fake; adapters/main.ts builds the real one.
 */
import type * as Client from 'openid-client';
import { lazyModule } from '../../modules/lazy-module.ts';
import { isLoopbackHttp, type OidcSettings } from '../../config/oidc-config.ts';
import type { SecretStore } from '../../secrets/secret-store.ts';

/** Loaded when single sign-on is configured and first used (issue 14: openid-client and jose). */
const openidClient = lazyModule<typeof Client>('openid-client');

/** What one browser's flow must prove at the callback; kept server-side, never in a URL. */
export type OidcChecks = Readonly<{ state: string; nonce: string; codeVerifier: string }>;

/** The validated ID token's claims. */
export type OidcClaims = Readonly<{ iss: string; sub: string } & Record<string, unknown>>;

/** `unavailable`: the provider could not be reached or answered nonsense; `refused`: the response failed a check. */
export class OidcFlowError extends Error {
  readonly kind: 'unavailable' | 'refused';
  constructor(kind: 'unavailable' | 'refused', message: string) {
    super(message);
    this.name = 'OidcFlowError';
    this.kind = kind;
  }
}

export type OidcRelyingParty = {
  /** The authorization request to send the browser to, and the checks to keep for its callback. */
  begin(): Promise<{ url: string; checks: OidcChecks }>;
  /** Redeems the code of `callbackUrl` and validates the ID token; throws OidcFlowError. */
  finish(callbackUrl: URL, checks: OidcChecks): Promise<OidcClaims>;
};

/** The client secret from where the config says: an environment variable or a file in secrets/. */
export const oidcClientSecret = (settings: OidcSettings, env: NodeJS.ProcessEnv, secrets: SecretStore): string => {
  if (settings.client_secret_env !== null) {
    const value = env[settings.client_secret_env] ?? '';
    if (value === '') throw new Error(`auth.oidc.client_secret_env: the environment variable ${settings.client_secret_env} is not set`);
    return value;
  }
  const name = settings.client_secret_file ?? '';
  const value = secrets.read(name)?.toString('utf8').trim() ?? '';
  if (value === '') throw new Error(`auth.oidc.client_secret_file: ${secrets.path(name)} is missing or empty`);
  return value;
};

/** The library's message, with the check that failed (openid-client wraps it as the cause). */
const describe = (err: unknown): string => {
  const e = err as { message?: string; error?: string; error_description?: string; cause?: { message?: unknown } };
  if (typeof e.error === 'string') return `the provider answered ${e.error}${e.error_description ? `: ${e.error_description}` : ''}`;
  const cause = typeof e.cause?.message === 'string' ? e.cause.message : null;
  return `${e.message ?? String(err)}${cause === null ? '' : `: ${cause}`}`;
};

/** Failures reaching the provider (or reading its answer) vs. answers that fail a check. */
const isUnavailable = (err: unknown): boolean =>
  err instanceof TypeError || (err as { code?: string }).code === 'OAUTH_RESPONSE_IS_NOT_CONFORM'
  || (err as { name?: string }).name === 'AbortError' || (err as { name?: string }).name === 'TimeoutError';

export const createOpenidRelyingParty = (settings: OidcSettings, clientSecret: string): OidcRelyingParty => {
  let discovered: Promise<Client.Configuration> | null = null;
  const configuration = (): Promise<Client.Configuration> => {
    discovered ??= openidClient().discovery(new URL(settings.issuer), settings.client_id, clientSecret, undefined, {
      // openid-client refuses plain http; allowed only for a provider on this machine (tests, a local IdP).
      execute: [openidClient().enableNonRepudiationChecks, ...(isLoopbackHttp(settings.issuer) ? [openidClient().allowInsecureRequests] : [])],
    }).catch((err: unknown) => {
      discovered = null; // try again at the next sign-in
      throw new OidcFlowError('unavailable', `the OpenID Provider ${settings.issuer} could not be discovered: ${describe(err)}`);
    });
    return discovered;
  };
  return {
    begin: async () => {
      const config = await configuration();
      const checks: OidcChecks = { state: openidClient().randomState(), nonce: openidClient().randomNonce(), codeVerifier: openidClient().randomPKCECodeVerifier() };
      const url = openidClient().buildAuthorizationUrl(config, {
        redirect_uri: settings.redirect_url,
        scope: settings.scopes.join(' '),
        code_challenge: await openidClient().calculatePKCECodeChallenge(checks.codeVerifier),
        code_challenge_method: 'S256',
        state: checks.state,
        nonce: checks.nonce,
      });
      return { url: url.href, checks };
    },
    finish: async (callbackUrl, checks) => {
      const config = await configuration();
      try {
        const tokens = await openidClient().authorizationCodeGrant(config, callbackUrl, {
          pkceCodeVerifier: checks.codeVerifier,
          expectedState: checks.state,
          expectedNonce: checks.nonce,
          idTokenExpected: true,
        });
        const claims = tokens.claims();
        if (!claims) throw new OidcFlowError('refused', 'the provider sent no ID token');
        return claims as OidcClaims;
      } catch (err) {
        if (err instanceof OidcFlowError) throw err;
        throw new OidcFlowError(isUnavailable(err) ? 'unavailable' : 'refused', describe(err));
      }
    },
  };
};
