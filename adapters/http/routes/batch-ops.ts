/**
 * The operations of `POST /batch` (issue 14): each does the work of one single write route, with
 * that route's request body (checked by the same OpenAPI schema: docs/openapi.yaml's
 * `Batch<Op>` variants point their `body` at it) and that route's command builder, so a batch
 * appends exactly what the single requests would. A path parameter of the single route is a field
 * of the operation (`username`, `name`, `id`).
 */
import type { Command } from '../../../core/commands.ts';
import type { EventEnvelope } from '../../../core/events.ts';
import { addAclRuleCommand, changeAclRuleCommand, type AclRuleCreateBody, type AclRuleUpdateBody } from './acls.ts';
import { createMqttUserCommand, updateMqttUserCommand, type CreateBody, type PasswordBody, type UpdateBody } from './mqtt-users.ts';
import { defineRoleCommand, updateRoleCommand, type RoleCreateBody, type RoleUpdateBody } from './roles.ts';

/** One operation as validated by `#/components/schemas/BatchOperation`. */
export type BatchOperation = Readonly<{ op: string; username?: string; name?: string; id?: number; body?: unknown }>;

export type OpSpec = Readonly<{
  /** The single route this operation does the work of (`METHOD /path` under /api/v1). */
  route: string;
  /** The OpenAPI component that validates the whole operation. */
  schema: string;
  /** The MQTT username the operation creates or changes: refused early when it is the service account. */
  username?: (o: BatchOperation) => string;
  /** Has a password to hash: the given one, or undefined for one MCM generates (shown once). */
  password?: (o: BatchOperation) => { given: string | undefined };
  /** `passwordHash` is the `$7$` hash of the password, for operations with `password`. */
  command: (o: BatchOperation, passwordHash: string) => Command;
  /** What the result names besides `{op, index}`; `events` are the ones this operation recorded. */
  subject: (o: BatchOperation, events: readonly EventEnvelope[]) => Record<string, unknown>;
}>;

const target = (o: BatchOperation, field: 'username' | 'name' | 'id'): string | number => {
  const v = o[field];
  // The schema requires it for every operation that reads it.
  if (v === undefined) throw new Error(`batch operation ${o.op} has no ${field}`);
  return v;
};
const username = (o: BatchOperation): string => String(target(o, 'username'));
const name = (o: BatchOperation): string => String(target(o, 'name'));
const id = (o: BatchOperation): number => Number(target(o, 'id'));
const bodyAs = <T>(o: BatchOperation): T => (o.body ?? {}) as T;

export const BATCH_OPS = {
  create_mqtt_user: {
    route: 'POST /mqtt-users',
    schema: 'BatchCreateMqttUser',
    username: (o) => bodyAs<CreateBody>(o).username,
    password: (o) => ({ given: bodyAs<CreateBody>(o).password }),
    command: (o, hash) => createMqttUserCommand(bodyAs<CreateBody>(o), hash),
    subject: (o) => ({ username: bodyAs<CreateBody>(o).username }),
  },
  update_mqtt_user: {
    route: 'PUT /mqtt-users/{username}',
    schema: 'BatchUpdateMqttUser',
    username,
    command: (o) => updateMqttUserCommand(username(o), bodyAs<UpdateBody>(o)),
    subject: (o) => ({ username: username(o) }),
  },
  change_mqtt_user_password: {
    route: 'POST /mqtt-users/{username}/password',
    schema: 'BatchChangeMqttUserPassword',
    username,
    password: (o) => ({ given: bodyAs<PasswordBody>(o).password }),
    command: (o, passwordHash) => ({ type: 'ChangeMqttUserPassword', data: { username: username(o), passwordHash } }),
    subject: (o) => ({ username: username(o) }),
  },
  delete_mqtt_user: {
    route: 'DELETE /mqtt-users/{username}',
    schema: 'BatchDeleteMqttUser',
    username,
    command: (o) => ({ type: 'DeleteMqttUser', data: { username: username(o) } }),
    subject: (o) => ({ username: username(o) }),
  },
  define_role: {
    route: 'POST /roles',
    schema: 'BatchDefineRole',
    command: (o) => defineRoleCommand(bodyAs<RoleCreateBody>(o)),
    subject: (o) => ({ name: bodyAs<RoleCreateBody>(o).name }),
  },
  update_role: {
    route: 'PUT /roles/{name}',
    schema: 'BatchUpdateRole',
    command: (o) => updateRoleCommand(name(o), bodyAs<RoleUpdateBody>(o)),
    subject: (o) => ({ name: name(o) }),
  },
  delete_role: {
    route: 'DELETE /roles/{name}',
    schema: 'BatchDeleteRole',
    command: (o) => ({ type: 'DeleteRole', data: { name: name(o) } }),
    subject: (o) => ({ name: name(o) }),
  },
  add_acl_rule: {
    route: 'POST /acls',
    schema: 'BatchAddAclRule',
    command: (o) => addAclRuleCommand(bodyAs<AclRuleCreateBody>(o)),
    // The new rule's id, which the client needs to change or remove it later.
    subject: (_o, events) => {
      const added = events.find((e) => e.type === 'AclRuleAdded');
      return added?.type === 'AclRuleAdded' ? { id: added.data.id } : {};
    },
  },
  change_acl_rule: {
    route: 'PUT /acls/{id}',
    schema: 'BatchChangeAclRule',
    command: (o) => changeAclRuleCommand(id(o), bodyAs<AclRuleUpdateBody>(o)),
    subject: (o) => ({ id: id(o) }),
  },
  remove_acl_rule: {
    route: 'DELETE /acls/{id}',
    schema: 'BatchRemoveAclRule',
    command: (o) => ({ type: 'RemoveAclRule', data: { id: id(o) } }),
    subject: (o) => ({ id: id(o) }),
  },
} as const satisfies Record<string, OpSpec>;

export type BatchOpName = keyof typeof BATCH_OPS;

/** The spec of a validated operation (the schema admits only the names above). */
export const opSpec = (op: string): OpSpec => {
  if (!Object.hasOwn(BATCH_OPS, op)) throw new Error(`unknown batch operation ${op}`);
  return BATCH_OPS[op as BatchOpName];
};
