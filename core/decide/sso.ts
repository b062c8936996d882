/**
 * Deciding single sign-on (issue 17, OpenID Connect). The adapter has validated the ID token and
 * mapped the provider's groups to a role; decide finds the admin user for the (issuer, subject)
 * pair and records what changes: the link on first sign-in, a new user when allowed, and the role
 * the groups give now (re-evaluated at every sign-in, under the last-admin rule of DESIGN §9).
 */
import type { CommandOf } from '../commands.ts';
import { DomainError, ERROR_CODES } from '../errors.ts';
import type { DomainEvent } from '../events.ts';
import { assertAdminUsername } from '../names.ts';
import { linkedAdminUser } from '../sso-link.ts';
import type { AdminRole, AdminUser, BrokerConfig } from '../state.ts';
import { assertAdminRole, protectLastAdmin, requireAdminUser } from './admin-users.ts';
import { own, show } from './guards.ts';

const nonEmpty = (value: unknown, field: string): string => {
  if (typeof value !== 'string' || value.length === 0 || value.length > 1024) {
    throw new DomainError(ERROR_CODES.VALIDATION, `${field} must be a non-empty string of at most 1024 characters (got ${show(value)})`, [{ field }]);
  }
  return value;
};

const refuseDisabled = (user: AdminUser): void => {
  if (user.disabled) {
    throw new DomainError(ERROR_CODES.ADMIN_USER_DISABLED, `admin user "${user.username}" is disabled in MCM: ask an admin to enable it`, [{ username: user.username }]);
  }
};

const roleEvents = (state: BrokerConfig, user: AdminUser, role: AdminRole): DomainEvent[] => {
  if (role === user.role) return [];
  protectLastAdmin(state, user, { role, disabled: user.disabled }, 'demoted');
  return [{ type: 'AdminUserRoleChanged', data: { username: user.username, role } }];
};

export const signInWithSso = (c: CommandOf<'SignInWithSso'>, state: BrokerConfig): DomainEvent[] => {
  const issuer = nonEmpty(c.data.issuer, 'issuer');
  const subject = nonEmpty(c.data.subject, 'subject');
  const role = assertAdminRole(c.data.role);
  const linked = linkedAdminUser(state, { issuer, subject });
  if (linked) {
    refuseDisabled(linked);
    return roleEvents(state, linked, role);
  }
  const username = assertAdminUsername(c.data.username);
  const existing = own(state.adminUsers, username);
  if (existing) {
    // One provider account per admin user: another `sub` offering the same name is someone else.
    if (existing.sso) {
      throw new DomainError(
        ERROR_CODES.SSO_ACCOUNT_CONFLICT,
        `admin user "${username}" already signs in as another account of ${existing.sso.issuer}`,
        [{ username, issuer: existing.sso.issuer }],
      );
    }
    refuseDisabled(existing);
    return [{ type: 'AdminUserLinked', data: { username, issuer, subject } }, ...roleEvents(state, existing, role)];
  }
  if (c.data.createUsers !== true) {
    throw new DomainError(
      ERROR_CODES.SSO_USER_UNKNOWN,
      `there is no admin user "${username}" in MCM and new users are not created at sign-in (auth.oidc.create_users): ask an admin to create it`,
      [{ username }],
    );
  }
  return [{ type: 'SsoAdminUserCreated', data: { username, role, issuer, subject } }];
};

/** Ends one session: the adapter names its token id and expiry; tokens carrying that id are refused. */
export const signOutAdminUser = (c: CommandOf<'SignOutAdminUser'>, state: BrokerConfig): DomainEvent[] => {
  const user = requireAdminUser(state, c.data.username);
  const sessionId = nonEmpty(c.data.sessionId, 'sessionId');
  const expiresAt = nonEmpty(c.data.expiresAt, 'expiresAt');
  if (Number.isNaN(Date.parse(expiresAt))) {
    throw new DomainError(ERROR_CODES.VALIDATION, `expiresAt must be an ISO-8601 time (got ${show(expiresAt)})`, [{ field: 'expiresAt' }]);
  }
  return [{ type: 'AdminUserSignedOut', data: { username: user.username, sessionId, expiresAt } }];
};
