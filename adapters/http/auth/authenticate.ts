/**
 * Bearer-token authentication on every request (DESIGN §9). A token is good only when its
 * signature, algorithm (HS256) and expiry check out AND its user still exists, is not disabled
 * and still has the tokenVersion the token was issued for: revocation is a lookup in the current
 * state, so it takes effect on the very next request. Routes then ask requireRole.
 */
import type Koa from 'koa';
import type { Actor } from '../../../core/events.ts';
import type { AdminRole, BrokerConfig } from '../../../core/state.ts';
import type { SecretStore } from '../../secrets/secret-store.ts';
import type { HttpDeps } from '../deps.ts';
import { HTTP_ERROR_CODES, HttpError } from '../errors.ts';
import { CLI_TOKEN_PREFIX, CLI_USER_HEADER, matchesCliToken } from './cli-token.ts';
import type { ApiTokenService } from './api-tokens.ts';
import type { TokenService } from './jwt.ts';

/** `token`: the API token's name when the caller is one (issue 17); its username is `token:<name>`. */
export type SignedInAdmin = Readonly<{ username: string; role: AdminRole; token?: string }>;

export type Authentication =
  | { ok: true; admin: SignedInAdmin }
  | { ok: false; reason: 'expired' | 'invalid' | 'revoked'; message: string; username?: string };

export const unauthenticated = (message: string): HttpError =>
  new HttpError(401, HTTP_ERROR_CODES.UNAUTHENTICATED, message, [], { 'WWW-Authenticate': 'Bearer realm="mcm"' });

/**
 * Checks a raw token against the current state: an API token (`mcmt_…`) when `apiTokens` is
 * given, else a session JWT. Also used by the ws hub (Sec-WebSocket-Protocol bearer.<token>).
 */
export const authenticateToken = (state: BrokerConfig, tokens: TokenService, token: string, apiTokens?: ApiTokenService): Authentication => {
  const api = apiTokens?.authenticate(state, token);
  if (api) return api;
  const checked = tokens.check(token);
  if (!checked.ok) return checked;
  const { sub, tv } = checked.claims;
  const user = Object.hasOwn(state.adminUsers, sub) ? state.adminUsers[sub] : undefined;
  if (!user) return { ok: false, reason: 'revoked', message: 'token revoked: the admin user no longer exists', username: sub };
  if (user.disabled) return { ok: false, reason: 'revoked', message: 'token revoked: the admin user is disabled', username: sub };
  if (user.tokenVersion !== tv) {
    return { ok: false, reason: 'revoked', message: 'token revoked: the password, role or MFA of this user changed since it was issued', username: sub };
  }
  if (user.endedSessions !== undefined && Object.hasOwn(user.endedSessions, checked.claims.jti)) {
    return { ok: false, reason: 'revoked', message: 'token revoked: this session was signed out', username: sub };
  }
  return { ok: true, admin: { username: user.username, role: user.role } };
};

const BEARER = /^Bearer +([A-Za-z0-9_.~+/=-]+)$/i;

/** The OS user the CLI names; anything odd (or nothing) is recorded as plain "cli". */
const cliUser = (ctx: Koa.Context): string => {
  const name = ctx.get(CLI_USER_HEADER);
  return /^[A-Za-z0-9._@$-]{1,64}$/.test(name) ? name : 'cli';
};

/**
 * Sets ctx.state.admin and ctx.state.actor; a request without Authorization goes on anonymous.
 * `Bearer mcm-cli.<token>` is the local CLI (auth/cli-token.ts): admin rights, actor kind "cli";
 * its admin name `cli:<user>` can never be an admin username, so /auth/me & co. find nobody.
 */
export const authentication = (deps: Pick<HttpDeps, 'store' | 'securityLog'> & { tokens: TokenService; apiTokens?: ApiTokenService; secrets?: SecretStore }): Koa.Middleware =>
  async (ctx, next) => {
    const header = ctx.get('Authorization');
    if (header !== '') {
      const token = BEARER.exec(header)?.[1];
      if (token === undefined) throw unauthenticated('the Authorization header must be "Bearer <token>"');
      if (token.startsWith(CLI_TOKEN_PREFIX)) {
        if (!deps.secrets || !matchesCliToken(deps.secrets, token.slice(CLI_TOKEN_PREFIX.length))) {
          const message = 'invalid CLI token: it is replaced at every server start (run mcm as the user that runs the server)';
          deps.securityLog.record({
            category: 'auth.token_invalid', severity: 'warning', message,
            details: { path: ctx.path, method: ctx.method, request_id: ctx.state.requestId, cli: true },
            actor: null, ip: ctx.state.clientIp ?? null,
          });
          throw unauthenticated(message);
        }
        const id = cliUser(ctx);
        ctx.state.admin = { username: `cli:${id}`, role: 'admin' } satisfies SignedInAdmin;
        const actor: Actor = { kind: 'cli', id, ip: ctx.state.clientIp, request_id: ctx.state.requestId };
        ctx.state.actor = actor;
        await next();
        return;
      }
      const state = deps.store.state();
      const result = authenticateToken(state, deps.tokens, token, deps.apiTokens);
      if (!result.ok) {
        if (result.reason !== 'expired') {
          deps.securityLog.record({
            category: result.reason === 'revoked' ? 'auth.token_revoked' : 'auth.token_invalid',
            severity: 'warning',
            message: result.message,
            details: { path: ctx.path, method: ctx.method, request_id: ctx.state.requestId },
            actor: result.username ?? null,
            ip: ctx.state.clientIp ?? null,
          });
        }
        throw unauthenticated(result.message);
      }
      ctx.state.admin = result.admin;
      const apiToken = result.admin.token;
      if (apiToken !== undefined) deps.apiTokens?.used(state, apiToken, String(ctx.state.clientIp ?? ctx.ip));
      // Audit and events name the token, not its creator (issue 17).
      const actor: Actor = apiToken === undefined
        ? { kind: 'admin', id: result.admin.username, ip: ctx.state.clientIp, request_id: ctx.state.requestId }
        : { kind: 'token', id: apiToken, ip: ctx.state.clientIp, request_id: ctx.state.requestId };
      ctx.state.actor = actor;
    }
    await next();
  };

/** The signed-in admin; only call behind requireRole (it throws 401 otherwise). */
export const signedInAdmin = (ctx: Koa.Context): SignedInAdmin => {
  const admin = ctx.state.admin as SignedInAdmin | undefined;
  if (!admin) throw unauthenticated('sign in first: this route needs a bearer token');
  return admin;
};

export const actorOf = (ctx: Koa.Context): Actor => {
  const actor = ctx.state.actor as Actor | undefined;
  if (!actor) throw unauthenticated('sign in first: this route needs a bearer token');
  return actor;
};
