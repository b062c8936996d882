/**
 * `auth.oidc` (issue 17, single sign-on with OpenID Connect): its schema, the defaults filled in
 * under a file's partial object, and the rules between its keys. The client secret never sits in
 * the config file: it comes from an environment variable (`client_secret_env`) or a file in
 * `<data dir>/secrets/` (`client_secret_file`); a literal `client_secret` is refused by name.
 */
import type { AdminRole } from '../../core/state.ts';

export type OidcSettings = {
  /** The provider's issuer URL; its discovery document is `<issuer>/.well-known/openid-configuration`. */
  issuer: string;
  client_id: string;
  /** The environment variable holding the client secret … */
  client_secret_env: string | null;
  /** … or the name of a file in `<data dir>/secrets/` holding it (exactly one of the two). */
  client_secret_file: string | null;
  scopes: string[];
  /** The ID token claim listing the user's groups (a string array, or one string). */
  groups_claim: string;
  /** Group → MCM role; the highest mapped role wins; a user with no mapped group is refused. */
  role_mapping: Record<string, AdminRole>;
  /** The claim giving the MCM username of a new user (`preferred_username` falls back to `email`). */
  username_claim: string;
  create_users: boolean;
  /** False: POST /auth/login (password sign-in) is refused; SSO is the only way in for people. */
  password_login: boolean;
  /** "Sign in with <display_name>" on the login screen. */
  display_name: string;
  /** MCM's public callback URL, registered at the provider: `https://<mcm>/api/v1/auth/oidc/callback`. */
  redirect_url: string;
};

export const OIDC_DEFAULTS: Omit<OidcSettings, 'issuer' | 'client_id' | 'redirect_url' | 'role_mapping'> = {
  client_secret_env: null,
  client_secret_file: null,
  scopes: ['openid', 'profile', 'email'],
  groups_claim: 'groups',
  username_claim: 'preferred_username',
  create_users: true,
  password_login: true,
  display_name: 'single sign-on',
};

const str = { type: 'string', minLength: 1 } as const;
const ROLES: readonly AdminRole[] = ['viewer', 'auditor', 'operator', 'admin'];

export const oidcSchema = {
  type: ['object', 'null'],
  additionalProperties: false,
  required: ['issuer', 'client_id', 'redirect_url', 'role_mapping'],
  properties: {
    issuer: { type: 'string', pattern: '^https?://[^\\s]+$' },
    client_id: str,
    client_secret_env: { type: ['string', 'null'], pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
    client_secret_file: { type: ['string', 'null'], pattern: '^[a-z0-9][a-z0-9._-]{0,63}$' },
    // Present only to be refused with a clear message (loadConfig), never used.
    client_secret: {},
    scopes: { type: 'array', items: { type: 'string', pattern: '^[\\x21\\x23-\\x5B\\x5D-\\x7E]+$' }, uniqueItems: true, contains: { const: 'openid' } },
    groups_claim: str,
    role_mapping: { type: 'object', minProperties: 1, additionalProperties: { enum: ROLES } },
    username_claim: str,
    create_users: { type: 'boolean' },
    password_login: { type: 'boolean' },
    display_name: { type: 'string', minLength: 1, maxLength: 64 },
    redirect_url: { type: 'string', pattern: '^https?://[^\\s]+$' },
  },
} as const;

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The file's `auth.oidc` with the defaults under it (the base config has `oidc: null`, so the merge can't). */
export const withOidcDefaults = (fileOidc: unknown): OidcSettings | null =>
  isPlainObject(fileOidc) ? ({ ...OIDC_DEFAULTS, ...fileOidc } as OidcSettings) : null;

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

/** http is allowed only to a loopback host (a provider or MCM on the same machine, tests). */
export const isLoopbackHttp = (url: string): boolean => {
  try {
    const u = new URL(url);
    return u.protocol === 'http:' && LOOPBACK_HOSTS.has(u.hostname);
  } catch {
    return false;
  }
};

const httpsOrLoopback = (url: string): boolean => url.startsWith('https://') || isLoopbackHttp(url);

/** A literal secret in the file, named so the message says where the secret belongs instead. */
export const literalSecretProblems = (fileOidc: unknown): string[] =>
  isPlainObject(fileOidc) && fileOidc['client_secret'] !== undefined
    ? ['/auth/oidc/client_secret: a secret never sits in the config file: set client_secret_env (the name of an environment variable holding it) or client_secret_file (a file in <data dir>/secrets/)']
    : [];

/**
 * Rules between the keys of auth.oidc. Whether the secret's variable or file is there is checked
 * when the server starts (auth/oidc-client.ts oidcClientSecret), not here: CLI commands that load
 * this config don't need the secret.
 */
export const oidcProblems = (oidc: OidcSettings | null): string[] => {
  if (oidc === null) return [];
  const problems: string[] = [];
  if ((oidc.client_secret_env === null) === (oidc.client_secret_file === null)) {
    problems.push('/auth/oidc: set exactly one of client_secret_env (an environment variable) and client_secret_file (a file in <data dir>/secrets/)');
  }
  if (!URL.canParse(oidc.issuer) || !URL.canParse(oidc.redirect_url)) return [...problems, '/auth/oidc: issuer and redirect_url must be absolute URLs'];
  if (!httpsOrLoopback(oidc.issuer)) problems.push(`/auth/oidc/issuer: must be an https URL (http only to a loopback host), got ${JSON.stringify(oidc.issuer)}`);
  if (!httpsOrLoopback(oidc.redirect_url)) problems.push(`/auth/oidc/redirect_url: must be an https URL (http only to a loopback host), got ${JSON.stringify(oidc.redirect_url)}`);
  else if (!new URL(oidc.redirect_url).pathname.endsWith('/api/v1/auth/oidc/callback')) {
    problems.push(`/auth/oidc/redirect_url: must be MCM's callback, https://<mcm host>/api/v1/auth/oidc/callback (got ${JSON.stringify(oidc.redirect_url)})`);
  }
  return problems;
};
