/** Deciding commands on MQTT users (Mosquitto password-file entries) and their role grants. */
import type { CommandOf } from '../commands.ts';
import { DomainError, ERROR_CODES } from '../errors.ts';
import type { DomainEvent } from '../events.ts';
import { byCodeUnit } from '../evolve/records.ts';
import { assertUsername } from '../names.ts';
import type { BrokerConfig } from '../state.ts';
import {
  assertBoolean, assertMosquittoHash, nameList, optionalDescription, own, requireMqttUser, requireRole, rulesOf,
} from './guards.ts';

/** Role names as a sorted set; every one must exist (MCM_ERR_ROLE_NOT_FOUND lists the missing). */
const assertRoleSet = (state: BrokerConfig, roles: unknown, field = 'roles'): string[] => {
  if (!Array.isArray(roles) || !roles.every((r) => typeof r === 'string')) {
    throw new DomainError(ERROR_CODES.VALIDATION, `${field} must be a list of role names`, [{ field, value: roles }]);
  }
  const set = [...new Set(roles as string[])].sort(byCodeUnit);
  const missing = set.filter((r) => !own(state.roles, r));
  if (missing.length > 0) {
    throw new DomainError(
      ERROR_CODES.ROLE_NOT_FOUND,
      missing.length === 1 ? `role "${missing[0]}" does not exist` : `roles do not exist: ${nameList(missing)}`,
      missing.map((role) => ({ field, role })),
    );
  }
  return set;
};

export const createMqttUser = (c: CommandOf<'CreateMqttUser'>, state: BrokerConfig): DomainEvent[] => {
  const username = assertUsername(c.data.username);
  if (own(state.users, username)) {
    throw new DomainError(ERROR_CODES.MQTT_USER_EXISTS, `MQTT user "${username}" already exists`, [{ username }]);
  }
  const passwordHash = assertMosquittoHash(c.data.passwordHash);
  const description = optionalDescription(c.data.description) ?? '';
  const disabled = c.data.disabled === undefined ? false : assertBoolean(c.data.disabled, 'disabled');
  const roles = c.data.roles === undefined ? [] : assertRoleSet(state, c.data.roles);
  return [
    { type: 'MqttUserCreated', data: { username, passwordHash, description, disabled } },
    ...roles.map((role): DomainEvent => ({ type: 'RoleGranted', data: { username, role } })),
  ];
};

export const changeMqttUserPassword = (c: CommandOf<'ChangeMqttUserPassword'>, state: BrokerConfig): DomainEvent[] => {
  const { username } = requireMqttUser(state, c.data.username);
  const passwordHash = assertMosquittoHash(c.data.passwordHash);
  // Always recorded, even for an identical hash: the operator asked for a rotation and the audit shows it.
  return [{ type: 'MqttUserPasswordChanged', data: { username, passwordHash } }];
};

/** Only the fields that change produce events; an update that changes nothing is a no-op ([]). */
export const updateMqttUser = (c: CommandOf<'UpdateMqttUser'>, state: BrokerConfig): DomainEvent[] => {
  const user = requireMqttUser(state, c.data.username);
  const { username } = user;
  const description = optionalDescription(c.data.description);
  const disabled = c.data.disabled === undefined ? undefined : assertBoolean(c.data.disabled, 'disabled');
  const roles = c.data.roles === undefined ? undefined : assertRoleSet(state, c.data.roles);
  const events: DomainEvent[] = [];
  if (description !== undefined && description !== user.description) {
    events.push({ type: 'MqttUserDescribed', data: { username, description } });
  }
  if (roles !== undefined) {
    for (const role of user.roles.filter((r) => !roles.includes(r))) events.push({ type: 'RoleRevoked', data: { username, role } });
    for (const role of roles.filter((r) => !user.roles.includes(r))) events.push({ type: 'RoleGranted', data: { username, role } });
  }
  if (disabled !== undefined && disabled !== user.disabled) {
    events.push(disabled ? { type: 'MqttUserDisabled', data: { username } } : { type: 'MqttUserEnabled', data: { username } });
  }
  return events;
};

/** The user's direct rules go in the same append (DESIGN §5); grants vanish with the user. */
export const deleteMqttUser = (c: CommandOf<'DeleteMqttUser'>, state: BrokerConfig): DomainEvent[] => {
  const { username } = requireMqttUser(state, c.data.username);
  return [
    ...rulesOf(state, `user:${username}`).map((r): DomainEvent => ({ type: 'AclRuleRemoved', data: { id: r.id } })),
    { type: 'MqttUserDeleted', data: { username } },
  ];
};

export const grantRole = (c: CommandOf<'GrantRole'>, state: BrokerConfig): DomainEvent[] => {
  const { username, roles } = requireMqttUser(state, c.data.username);
  const { name: role } = requireRole(state, c.data.role);
  if (roles.includes(role)) {
    throw new DomainError(ERROR_CODES.ROLE_ALREADY_GRANTED, `role "${role}" is already granted to MQTT user "${username}"`, [{ username, role }]);
  }
  return [{ type: 'RoleGranted', data: { username, role } }];
};

export const revokeRole = (c: CommandOf<'RevokeRole'>, state: BrokerConfig): DomainEvent[] => {
  const { username, roles } = requireMqttUser(state, c.data.username);
  const { name: role } = requireRole(state, c.data.role);
  if (!roles.includes(role)) {
    throw new DomainError(ERROR_CODES.ROLE_NOT_GRANTED, `role "${role}" is not granted to MQTT user "${username}"`, [{ username, role }]);
  }
  return [{ type: 'RoleRevoked', data: { username, role } }];
};
