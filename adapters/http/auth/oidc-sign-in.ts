/**
 * What a validated ID token becomes (issue 17): the provider's groups are mapped to an MCM role
 * (the highest mapped one; none → refused with a message that says so), then one SignInWithSso
 * command through handleCommand (the one write path, audited with the admin as actor) links or
 * creates the user and sets the role the groups give today. Every refusal is an
 * `auth.sso_failed` security event; a success is `auth.login_succeeded`.
 */
import { isDomainError } from '../../../core/errors.ts';
import { handleCommand } from '../../../core/handle-command.ts';
import { adminUsernameProblem } from '../../../core/names.ts';
import { ssoUsername } from '../../../core/sso-link.ts';
import { ADMIN_ROLES, type AdminRole } from '../../../core/state.ts';
import type { OidcSettings } from '../../config/oidc-config.ts';
import type { HttpDeps } from '../deps.ts';
import { HTTP_ERROR_CODES, statusForCode } from '../errors.ts';
import type { OidcClaims } from './oidc-client.ts';

/** What the browser collects at POST /auth/oidc/exchange. */
export type SsoRefusal = Readonly<{ ok: false; status: number; code: string; message: string }>;
export type SsoOutcome = Readonly<{ ok: true; username: string }> | SsoRefusal;

export type SsoWho = Readonly<{ ip: string; requestId?: string }>;

/** The claim as a list of group names: an array of strings or one string; anything else is none. */
export const groupsOf = (claims: OidcClaims, claim: string): string[] => {
  const v = claims[claim];
  if (typeof v === 'string') return [v];
  return Array.isArray(v) ? v.filter((g): g is string => typeof g === 'string') : [];
};

/** The highest role any of the groups maps to; null when none is mapped. */
export const roleForGroups = (groups: readonly string[], mapping: Readonly<Record<string, AdminRole>>): AdminRole | null => {
  let best = -1;
  for (const g of groups) {
    const role = Object.hasOwn(mapping, g) ? mapping[g] : undefined;
    if (role !== undefined) best = Math.max(best, ADMIN_ROLES.indexOf(role));
  }
  return best < 0 ? null : ADMIN_ROLES[best] ?? null;
};

/** The MCM username a new user gets: the configured claim, else `email`, when it follows the admin username rules. */
export const usernameOf = (claims: OidcClaims, settings: OidcSettings): string | null => {
  for (const claim of [settings.username_claim, 'email']) {
    const v = claims[claim];
    if (typeof v === 'string' && adminUsernameProblem(v) === null) return v;
  }
  return null;
};

export type SsoDeps = Pick<HttpDeps, 'store' | 'clock' | 'securityLog' | 'commits'>;

export const refused = (status: number, code: string, message: string): SsoRefusal => ({ ok: false, status, code, message });

/** Records a refused sign-in and returns it as the outcome. */
export const recordRefusal = (deps: Pick<HttpDeps, 'securityLog'>, who: SsoWho, outcome: SsoRefusal, reason: string, actor: string | null, extra: Record<string, unknown> = {}): SsoOutcome => {
  deps.securityLog.record({
    category: 'auth.sso_failed', severity: 'warning', message: `single sign-on refused: ${outcome.message}`,
    details: { reason, code: outcome.code, request_id: who.requestId, ...extra }, actor, ip: who.ip,
  });
  return outcome;
};

export const ssoSignIn = (deps: SsoDeps, settings: OidcSettings, claims: OidcClaims, who: SsoWho): SsoOutcome => {
  const offered = usernameOf(claims, settings);
  const identity = { issuer: claims.iss, subject: claims.sub };
  const name = ssoUsername({ ...identity, username: offered ?? '' }, deps.store.state());
  const label = name === '' ? `subject ${claims.sub}` : `"${name}"`;
  const groups = groupsOf(claims, settings.groups_claim);
  const role = roleForGroups(groups, settings.role_mapping);
  if (role === null) {
    return recordRefusal(deps, who, refused(403, HTTP_ERROR_CODES.SSO_NO_ROLE,
      `your ${settings.display_name} account ${label} is in no group that gives a role in MCM: ask an MCM admin to put you in one`,
    ), 'no_role', name === '' ? null : name, { groups });
  }
  if (name === '') {
    return recordRefusal(deps, who, refused(403, HTTP_ERROR_CODES.SSO_FAILED,
      `your ${settings.display_name} account has no usable username: its "${settings.username_claim}" or "email" claim must be 1-64 letters, digits, ".", "_", "@" or "-"`,
    ), 'username_invalid', null);
  }
  try {
    handleCommand(deps, {
      type: 'SignInWithSso',
      data: { ...identity, username: name, role, createUsers: settings.create_users },
    }, { actor: { kind: 'admin', id: name, ip: who.ip, ...(who.requestId ? { request_id: who.requestId } : {}) } });
  } catch (err) {
    if (!isDomainError(err)) throw err;
    return recordRefusal(deps, who, refused(statusForCode(err.code), err.code, err.message), 'refused_by_mcm', name);
  }
  deps.securityLog.record({
    category: 'auth.login_succeeded', severity: 'info', message: `signed in (single sign-on, role ${role})`,
    details: { factors: 'single sign-on', issuer: claims.iss, groups, request_id: who.requestId }, actor: name, ip: who.ip,
  });
  return { ok: true, username: name };
};
