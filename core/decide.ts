/**
 * decide(command, state) → events: the only code that decides (DESIGN §1). Pure and total: it
 * reads the state (never changes it), reads no clock, draws no randomness, and either returns the
 * events to append ([] for a no-op) or throws a DomainError with a stable MCM_ERR_* code.
 */
import type { Command } from './commands.ts';
import { DomainError, ERROR_CODES } from './errors.ts';
import type { DomainEvent } from './events.ts';
import type { BrokerConfig } from './state.ts';
import { addAclRule, changeAclRule, removeAclRule } from './decide/acl-rules.ts';
import {
  createAdminUser, deleteAdminUser, disableMfa, enableMfa, startMfaEnrolment, updateAdminUser, useRecoveryCode,
} from './decide/admin-users.ts';
import { signInWithSso, signOutAdminUser } from './decide/sso.ts';
import {
  changeMqttUserPassword, createMqttUser, deleteMqttUser, grantRole, revokeRole, updateMqttUser,
} from './decide/mqtt-users.ts';
import { defineRole, deleteRole, updateRole } from './decide/roles.ts';
import { attachSchema, changeSchema, detachSchema } from './decide/schemas.ts';
import { changeSettings } from './decide/settings.ts';
import { clearRetained, publishMessage } from './decide/broker-actions.ts';
import { createApiToken, revokeApiToken } from './decide/api-tokens.ts';
import { createWebhook, deleteWebhook, rotateWebhookSecret, updateWebhook } from './decide/webhooks.ts';
import { importBrokerFiles, takeOverBrokerFiles } from './decide/broker-files.ts';
import { show } from './decide/guards.ts';
import {
  addCertificate, removeBrokerBridge, removeBrokerListener, removeCertificate, setBrokerBridge, setBrokerConfig, setBrokerListener,
  type BrokerConfigContext,
} from './decide/broker-config.ts';
import { isMarkerUsername } from './names.ts';

export type DecideContext = Readonly<{
  /**
   * MCM's own MQTT account (config mqtt.service_account.username). Reserved here, for every path
   * (HTTP, CLI, GitOps, import): MCM renders its password line and ACL block itself (DESIGN §6),
   * and a user of that name would compete with them for the line the broker keeps.
   */
  serviceAccount?: string;
  /** MCM's own listener ports and the broker's version: what the broker configuration is checked against. */
  broker?: BrokerConfigContext;
  /**
   * The enforcement backend (config mosquitto.backend, issue 15). With `dynsec`, rules the
   * dynamic-security plugin cannot express are refused on every path (HTTP, CLI, GitOps, import).
   */
  backend?: 'files' | 'dynsec';
}>;

/** The context handleCommand/handleBatch pass on: only what the adapter gave. */
export const decideContext = (deps: Readonly<{ serviceAccount?: string; broker?: BrokerConfigContext; backend?: 'files' | 'dynsec' }>): DecideContext => ({
  ...(deps.serviceAccount === undefined ? {} : { serviceAccount: deps.serviceAccount }),
  ...(deps.broker === undefined ? {} : { broker: deps.broker }),
  ...(deps.backend === undefined ? {} : { backend: deps.backend }),
});

/**
 * The dynamic-security plugin of Mosquitto 2.0 substitutes no %c/%u (issue 15): a `pattern` rule
 * would be silently unenforced, so it is refused while that backend is chosen.
 */
const assertBackendExpresses = (events: DomainEvent[], ctx: DecideContext): DomainEvent[] => {
  if (ctx.backend !== 'dynsec') return events;
  for (const e of events) {
    if (e.type === 'AclRuleAdded' && e.data.principal === 'pattern') {
      throw new DomainError(ERROR_CODES.BACKEND_UNSUPPORTED, `pattern rules (${e.data.topic}) cannot be enforced by the dynamic-security plugin (mosquitto.backend dynsec): Mosquitto 2.0's plugin has no %c/%u substitution; use a user or role rule`, [
        { field: 'principal', value: 'pattern', backend: 'dynsec' },
      ]);
    }
  }
  return events;
};

/** The MQTT username a command would create or change, if any. */
const targetUsername = (command: Command): string | null => {
  switch (command.type) {
    case 'CreateMqttUser': case 'ChangeMqttUserPassword': case 'UpdateMqttUser': case 'DeleteMqttUser':
    case 'GrantRole': case 'RevokeRole':
      return typeof command.data.username === 'string' ? command.data.username : null;
    case 'AddAclRule':
      return typeof command.data.principal === 'string' && command.data.principal.startsWith('user:') ? command.data.principal.slice(5) : null;
    default:
      return null;
  }
};

export const decide = (command: Command, state: BrokerConfig, ctx: DecideContext = {}): DomainEvent[] =>
  assertBackendExpresses(decideAny(command, state, ctx), ctx);

const decideAny = (command: Command, state: BrokerConfig, ctx: DecideContext): DomainEvent[] => {
  // Types guarantee this; a hand-built command (CLI, GitOps, tests) gets a DomainError, not a TypeError.
  if (command === null || typeof command !== 'object' || command.data === null || typeof command.data !== 'object') {
    throw new DomainError(ERROR_CODES.VALIDATION, 'a command must be an object with a data object', [{ field: 'data' }]);
  }
  const target = targetUsername(command);
  if (target !== null && (target === ctx.serviceAccount || isMarkerUsername(target))) {
    throw new DomainError(ERROR_CODES.USERNAME_RESERVED, `"${target}" is ${target === ctx.serviceAccount ? "MCM's service account" : "the form of MCM's password-file marker"} and cannot be managed as an MQTT user`, [
      { field: command.type === 'AddAclRule' ? 'principal' : 'username', value: target },
    ]);
  }
  switch (command.type) {
    case 'CreateMqttUser': return createMqttUser(command, state);
    case 'ChangeMqttUserPassword': return changeMqttUserPassword(command, state);
    case 'UpdateMqttUser': return updateMqttUser(command, state);
    case 'DeleteMqttUser': return deleteMqttUser(command, state);
    case 'DefineRole': return defineRole(command, state);
    case 'UpdateRole': return updateRole(command, state);
    case 'DeleteRole': return deleteRole(command, state);
    case 'GrantRole': return grantRole(command, state);
    case 'RevokeRole': return revokeRole(command, state);
    case 'AddAclRule': return addAclRule(command, state);
    case 'ChangeAclRule': return changeAclRule(command, state);
    case 'RemoveAclRule': return removeAclRule(command, state);
    case 'AttachSchema': return attachSchema(command, state);
    case 'ChangeSchema': return changeSchema(command, state);
    case 'DetachSchema': return detachSchema(command, state);
    case 'ChangeSettings': return changeSettings(command, state);
    case 'CreateAdminUser': return createAdminUser(command, state);
    case 'UpdateAdminUser': return updateAdminUser(command, state);
    case 'DeleteAdminUser': return deleteAdminUser(command, state);
    case 'StartMfaEnrolment': return startMfaEnrolment(command, state);
    case 'EnableMfa': return enableMfa(command, state);
    case 'DisableMfa': return disableMfa(command, state);
    case 'UseRecoveryCode': return useRecoveryCode(command, state);
    case 'SignInWithSso': return signInWithSso(command, state);
    case 'SignOutAdminUser': return signOutAdminUser(command, state);
    case 'CreateApiToken': return createApiToken(command, state);
    case 'RevokeApiToken': return revokeApiToken(command, state);
    case 'PublishMessage': return publishMessage(command);
    case 'ClearRetained': return clearRetained(command);
    case 'CreateWebhook': return createWebhook(command, state);
    case 'UpdateWebhook': return updateWebhook(command, state);
    case 'RotateWebhookSecret': return rotateWebhookSecret(command, state);
    case 'DeleteWebhook': return deleteWebhook(command, state);
    case 'ImportBrokerFiles': return importBrokerFiles(command, state);
    case 'TakeOverBrokerFiles': return takeOverBrokerFiles(command, state);
    case 'SetBrokerConfig': return setBrokerConfig(command, state, ctx.broker);
    case 'SetBrokerListener': return setBrokerListener(command, state, ctx.broker);
    case 'RemoveBrokerListener': return removeBrokerListener(command, state, ctx.broker);
    case 'SetBrokerBridge': return setBrokerBridge(command, state, ctx.broker);
    case 'RemoveBrokerBridge': return removeBrokerBridge(command, state, ctx.broker);
    case 'AddCertificate': return addCertificate(command, state);
    case 'RemoveCertificate': return removeCertificate(command, state);
    default: {
      // Reached only when a caller bypasses the types (e.g. a hand-built CLI or GitOps command).
      const never: never = command;
      const type = (never as { type?: unknown }).type;
      throw new DomainError(ERROR_CODES.VALIDATION, `unknown command ${show(type)}`, [{ field: 'type', value: type }]);
    }
  }
};
