/**
 * Deciding admin-user and MFA commands (people who use MCM, DESIGN §5 and §9). Hashes, the TOTP
 * secret's ciphertext and re-authentication are the adapter's job; decide checks their shape and
 * the state rules, above all: the last active admin can't be disabled, demoted or deleted.
 */
import type { CommandOf } from '../commands.ts';
import { DomainError, ERROR_CODES } from '../errors.ts';
import type { DomainEvent } from '../events.ts';
import { assertAdminUsername } from '../names.ts';
import { ADMIN_ROLES, type AdminRole, type AdminUser, type BrokerConfig } from '../state.ts';
import { revokeTokensOf } from './api-tokens.ts';
import { assertBcryptHash, assertBoolean, isRecoveryCodeHash, own, show } from './guards.ts';

export const RECOVERY_CODE_COUNT = 10;

export const requireAdminUser = (state: BrokerConfig, username: unknown): AdminUser => {
  const user = typeof username === 'string' ? own(state.adminUsers, username) : undefined;
  if (!user) {
    throw new DomainError(ERROR_CODES.ADMIN_USER_NOT_FOUND, `admin user ${show(username)} does not exist`, [{ username }]);
  }
  return user;
};

export const assertAdminRole = (value: unknown): AdminRole => {
  if (typeof value !== 'string' || !(ADMIN_ROLES as readonly string[]).includes(value)) {
    throw new DomainError(
      ERROR_CODES.ADMIN_ROLE_INVALID,
      `admin role must be one of ${ADMIN_ROLES.join(', ')} (got ${show(value)})`,
      [{ field: 'role', value, allowed: [...ADMIN_ROLES] }],
    );
  }
  return value as AdminRole;
};

const isActiveAdmin = (u: Pick<AdminUser, 'role' | 'disabled'>): boolean => u.role === 'admin' && !u.disabled;

/** Throws when `user` is the only active admin and would stop being one (DESIGN §9). */
export const protectLastAdmin = (state: BrokerConfig, user: AdminUser, after: Pick<AdminUser, 'role' | 'disabled'> | null, action: string): void => {
  if (!isActiveAdmin(user) || (after && isActiveAdmin(after))) return;
  const others = Object.values(state.adminUsers).some((u) => u.username !== user.username && isActiveAdmin(u));
  if (others) return;
  throw new DomainError(
    ERROR_CODES.LAST_ADMIN,
    `admin user "${user.username}" is the last active admin and can't be ${action}; make another user an active admin first`,
    [{ username: user.username, action }],
  );
};

export const createAdminUser = (c: CommandOf<'CreateAdminUser'>, state: BrokerConfig): DomainEvent[] => {
  const username = assertAdminUsername(c.data.username);
  const role = assertAdminRole(c.data.role);
  if (own(state.adminUsers, username)) {
    throw new DomainError(ERROR_CODES.ADMIN_USER_EXISTS, `admin user "${username}" already exists`, [{ username }]);
  }
  const passwordHash = assertBcryptHash(c.data.passwordHash);
  return [{ type: 'AdminUserCreated', data: { username, passwordHash, role } }];
};

/** Only changed fields produce events; each bumps the user's tokenVersion (sessions end). */
export const updateAdminUser = (c: CommandOf<'UpdateAdminUser'>, state: BrokerConfig): DomainEvent[] => {
  const user = requireAdminUser(state, c.data.username);
  const { username } = user;
  const role = c.data.role === undefined ? user.role : assertAdminRole(c.data.role);
  const disabled = c.data.disabled === undefined ? user.disabled : assertBoolean(c.data.disabled, 'disabled');
  const passwordHash = c.data.passwordHash === undefined ? user.passwordHash : assertBcryptHash(c.data.passwordHash);
  protectLastAdmin(state, user, { role, disabled }, disabled && !user.disabled ? 'disabled' : 'demoted');
  const events: DomainEvent[] = [];
  if (passwordHash !== user.passwordHash) events.push({ type: 'AdminUserPasswordChanged', data: { username, passwordHash } });
  if (role !== user.role) events.push({ type: 'AdminUserRoleChanged', data: { username, role } });
  if (disabled !== user.disabled) {
    events.push(disabled ? { type: 'AdminUserDisabled', data: { username } } : { type: 'AdminUserEnabled', data: { username } });
  }
  return events;
};

export const deleteAdminUser = (c: CommandOf<'DeleteAdminUser'>, state: BrokerConfig): DomainEvent[] => {
  const user = requireAdminUser(state, c.data.username);
  protectLastAdmin(state, user, null, 'deleted');
  return [...revokeTokensOf(state, user.username), { type: 'AdminUserDeleted', data: { username: user.username } }];
};

const mfaState = (username: string, message: string): DomainError =>
  new DomainError(ERROR_CODES.MFA_STATE, message, [{ username }]);

/**
 * Allowed whether or not MFA is on: when it is on this is a re-setup, and the adapter has already
 * re-authenticated the user. The new secret is stored at once (see core/evolve/admin-users.ts).
 */
export const startMfaEnrolment = (c: CommandOf<'StartMfaEnrolment'>, state: BrokerConfig): DomainEvent[] => {
  const { username } = requireAdminUser(state, c.data.username);
  const { secretCiphertext, recoveryCodeHashes } = c.data;
  if (typeof secretCiphertext !== 'string' || secretCiphertext.length === 0) {
    throw new DomainError(ERROR_CODES.VALIDATION, 'secretCiphertext must be the non-empty ciphertext of the TOTP secret', [{ field: 'secretCiphertext' }]);
  }
  if (!Array.isArray(recoveryCodeHashes) || recoveryCodeHashes.length !== RECOVERY_CODE_COUNT || !recoveryCodeHashes.every(isRecoveryCodeHash)) {
    throw new DomainError(
      ERROR_CODES.VALIDATION,
      `recoveryCodeHashes must be exactly ${RECOVERY_CODE_COUNT} keyed hashes (hmac-sha256$<hex>) or bcrypt hashes`,
      [{ field: 'recoveryCodeHashes', expected: RECOVERY_CODE_COUNT }],
    );
  }
  return [{ type: 'MfaEnrolmentStarted', data: { username, secretCiphertext, recoveryCodeHashes: [...recoveryCodeHashes] } }];
};

/** The adapter has verified a TOTP code against the started enrolment's secret. */
export const enableMfa = (c: CommandOf<'EnableMfa'>, state: BrokerConfig): DomainEvent[] => {
  const user = requireAdminUser(state, c.data.username);
  if (user.mfa.pending === null) {
    throw mfaState(user.username, `admin user "${user.username}" has no MFA enrolment to verify; start the MFA setup first`);
  }
  // The code was checked against one enrolment; another setup started since must not be enabled by it.
  if (c.data.secretCiphertext !== user.mfa.pending.secretCiphertext) {
    throw mfaState(user.username, `the MFA setup of admin user "${user.username}" changed while the code was checked; verify a code from the newest setup`);
  }
  return [{ type: 'MfaEnabled', data: { username: user.username } }];
};

export const disableMfa = (c: CommandOf<'DisableMfa'>, state: BrokerConfig): DomainEvent[] => {
  const user = requireAdminUser(state, c.data.username);
  if (!user.mfa.enabled) throw mfaState(user.username, `MFA is not enabled for admin user "${user.username}"`);
  return [{ type: 'MfaDisabled', data: { username: user.username } }];
};

/** Recovery codes are single use (DESIGN §9): a used one is null in the state. */
export const useRecoveryCode = (c: CommandOf<'UseRecoveryCode'>, state: BrokerConfig): DomainEvent[] => {
  const user = requireAdminUser(state, c.data.username);
  const { username } = user;
  const { index } = c.data;
  if (!user.mfa.enabled) throw mfaState(username, `MFA is not enabled for admin user "${username}"`);
  const codes = user.mfa.recoveryCodeHashes;
  if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= codes.length) {
    throw mfaState(username, `admin user "${username}" has no recovery code number ${show(index)}`);
  }
  if (codes[index] === null) throw mfaState(username, `recovery code ${index} of admin user "${username}" has already been used`);
  // The adapter matched a code against a hash it read earlier: spend it only if that very hash is still there.
  if (codes[index] !== c.data.codeHash) throw mfaState(username, `the recovery codes of admin user "${username}" changed while the code was checked`);
  return [{ type: 'MfaRecoveryCodeUsed', data: { username, index } }];
};
