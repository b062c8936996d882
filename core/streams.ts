/** Stream names (DESIGN §4): `<entity>:<id>`; the settings singleton is bare. */
import type { Command } from './commands.ts';
import type { DomainEvent } from './events.ts';
import type { BrokerConfig } from './state.ts';
import { ssoUsername } from './sso-link.ts';

export const mqttUserStream = (username: string): string => `mqtt-user:${username}`;
export const roleStream = (name: string): string => `role:${name}`;
export const aclStream = (id: number): string => `acl:${id}`;
export const schemaStream = (id: number): string => `schema:${id}`;
export const adminUserStream = (username: string): string => `admin-user:${username}`;
export const webhookStream = (id: number): string => `webhook:${id}`;
export const SETTINGS_STREAM = 'settings';
/** Operator actions on the live broker (publish, clear retained). */
export const BROKER_STREAM = 'broker';
/** Adoption of the operator's broker files (import, takeover). */
export const BROKER_FILES_STREAM = 'broker-files';
/** The broker configuration (mosquitto.conf) singleton. */
export const BROKER_CONFIG_STREAM = 'broker-config';
export const certificateStream = (name: string): string => `certificate:${name}`;
export const apiTokenStream = (name: string): string => `api-token:${name}`;

/** The stream an event is recorded on. Grants belong to the user they change. */
export const streamOf = (event: DomainEvent): string => {
  switch (event.type) {
    case 'MqttUserCreated': case 'MqttUserPasswordChanged': case 'MqttUserDescribed':
    case 'MqttUserDisabled': case 'MqttUserEnabled': case 'MqttUserDeleted':
    case 'RoleGranted': case 'RoleRevoked':
      return mqttUserStream(event.data.username);
    case 'RoleDefined': case 'RoleDescribed': case 'RoleDeleted':
      return roleStream(event.data.role);
    case 'AclRuleAdded': case 'AclRuleChanged': case 'AclRuleRemoved':
      return aclStream(event.data.id);
    case 'SchemaAttached': case 'SchemaChanged': case 'SchemaEnabled': case 'SchemaDisabled': case 'SchemaDetached':
      return schemaStream(event.data.id);
    case 'AnonymousAccessChanged': case 'HashIterationsChanged':
      return SETTINGS_STREAM;
    case 'AdminUserCreated': case 'AdminUserPasswordChanged': case 'AdminUserRoleChanged':
    case 'AdminUserDisabled': case 'AdminUserEnabled': case 'AdminUserDeleted':
    case 'MfaEnrolmentStarted': case 'MfaEnabled': case 'MfaDisabled': case 'MfaRecoveryCodeUsed':
    case 'SsoAdminUserCreated': case 'AdminUserLinked': case 'AdminUserSignedOut':
      return adminUserStream(event.data.username);
    case 'BrokerMessagePublished': case 'RetainedMessageCleared':
      return BROKER_STREAM;
    case 'WebhookCreated': case 'WebhookChanged': case 'WebhookSecretRotated': case 'WebhookDeleted':
      return webhookStream(event.data.id);
    case 'BrokerFilesAdopted':
      return BROKER_FILES_STREAM;
    case 'BrokerConfigChanged':
      return BROKER_CONFIG_STREAM;
    case 'CertificateAdded': case 'CertificateRemoved':
      return certificateStream(event.data.name);
    case 'ApiTokenCreated': case 'ApiTokenRevoked':
      return apiTokenStream(event.data.name);
    default: {
      const never: never = event;
      throw new Error(`no stream for ${JSON.stringify(never)}`);
    }
  }
};

/**
 * The stream a command targets: the unit of optimistic concurrency (DESIGN §4: If-Match is stale
 * only when *this* stream has an event newer than the seq the client read).
 */
export const targetStream = (command: Command, state: BrokerConfig): string => {
  switch (command.type) {
    case 'CreateMqttUser': case 'ChangeMqttUserPassword': case 'UpdateMqttUser': case 'DeleteMqttUser':
    case 'GrantRole': case 'RevokeRole':
      return mqttUserStream(command.data.username);
    case 'DefineRole': case 'UpdateRole': case 'DeleteRole':
      return roleStream(command.data.name);
    case 'AddAclRule':
      return aclStream(state.nextRuleId);
    case 'ChangeAclRule': case 'RemoveAclRule':
      return aclStream(command.data.id);
    case 'AttachSchema':
      return schemaStream(state.nextSchemaId);
    case 'ChangeSchema': case 'DetachSchema':
      return schemaStream(command.data.id);
    case 'ChangeSettings':
      return SETTINGS_STREAM;
    case 'CreateAdminUser': case 'UpdateAdminUser': case 'DeleteAdminUser':
    case 'StartMfaEnrolment': case 'EnableMfa': case 'DisableMfa': case 'UseRecoveryCode':
    case 'SignOutAdminUser':
      return adminUserStream(command.data.username);
    case 'SignInWithSso':
      return adminUserStream(ssoUsername(command.data, state));
    case 'PublishMessage': case 'ClearRetained':
      return BROKER_STREAM;
    case 'CreateWebhook':
      return webhookStream(state.nextWebhookId);
    case 'UpdateWebhook': case 'RotateWebhookSecret': case 'DeleteWebhook':
      return webhookStream(command.data.id);
    case 'ImportBrokerFiles': case 'TakeOverBrokerFiles':
      return BROKER_FILES_STREAM;
    case 'SetBrokerConfig': case 'SetBrokerListener': case 'RemoveBrokerListener': case 'SetBrokerBridge': case 'RemoveBrokerBridge':
      return BROKER_CONFIG_STREAM;
    case 'AddCertificate': case 'RemoveCertificate':
      return certificateStream(String(command.data.name));
    case 'CreateApiToken': case 'RevokeApiToken':
      return apiTokenStream(String(command.data.name));
    default: {
      const never: never = command;
      throw new Error(`no target stream for ${JSON.stringify(never)}`);
    }
  }
};
