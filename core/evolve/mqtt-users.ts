/** Folding MQTT users, roles and grants into the state (in place; see core/state.ts). */
import type { EventOf } from '../events.ts';
import type { BrokerConfig } from '../state.ts';
import { byCodeUnit, drop, own, put } from './records.ts';

export type MqttUserEvent = EventOf<
  | 'MqttUserCreated' | 'MqttUserPasswordChanged' | 'MqttUserDescribed' | 'MqttUserDisabled'
  | 'MqttUserEnabled' | 'MqttUserDeleted' | 'RoleGranted' | 'RoleRevoked'
>;
export type RoleEvent = EventOf<'RoleDefined' | 'RoleDescribed' | 'RoleDeleted'>;

/**
 * Events naming a user or role that is not in the state are ignored: decide never emits them,
 * and refusing to fold would make a damaged log impossible to open and repair.
 */
export const evolveMqttUser = (state: BrokerConfig, event: MqttUserEvent, at: string): void => {
  if (event.type === 'MqttUserCreated') {
    const { username, passwordHash, description, disabled } = event.data;
    put(state.users, username, { username, passwordHash, description, disabled, roles: [], createdAt: at, updatedAt: at });
    return;
  }
  const user = own(state.users, event.data.username);
  if (!user) return;
  switch (event.type) {
    case 'MqttUserPasswordChanged': user.passwordHash = event.data.passwordHash; break;
    case 'MqttUserDescribed': user.description = event.data.description; break;
    case 'MqttUserDisabled': user.disabled = true; break;
    case 'MqttUserEnabled': user.disabled = false; break;
    case 'MqttUserDeleted': drop(state.users, user.username); return; // its grants go with it
    case 'RoleGranted':
      if (!user.roles.includes(event.data.role)) {
        user.roles.push(event.data.role);
        user.roles.sort(byCodeUnit);
      }
      break;
    case 'RoleRevoked': user.roles = user.roles.filter((r) => r !== event.data.role); break;
    default: {
      const never: never = event;
      throw new Error(`unhandled MQTT user event ${JSON.stringify(never)}`);
    }
  }
  user.updatedAt = at;
};

export const evolveRole = (state: BrokerConfig, event: RoleEvent, at: string): void => {
  switch (event.type) {
    case 'RoleDefined':
      put(state.roles, event.data.role, { name: event.data.role, description: event.data.description, createdAt: at, updatedAt: at });
      return;
    case 'RoleDescribed': {
      const role = own(state.roles, event.data.role);
      if (role) {
        role.description = event.data.description;
        role.updatedAt = at;
      }
      return;
    }
    case 'RoleDeleted':
      // decide refuses to delete a granted role and removes its rules in the same append.
      drop(state.roles, event.data.role);
      return;
    default: {
      const never: never = event;
      throw new Error(`unhandled role event ${JSON.stringify(never)}`);
    }
  }
};
