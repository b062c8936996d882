/**
 * Domain events: the append-only contract of the event log (DESIGN §4). Names are past tense.
 * Never change a shipped payload in place: bump `version` and add an upcaster in core/upcast.ts.
 * No payload carries a plaintext secret: MQTT passwords are `$7$` lines' hash fields, admin
 * passwords bcrypt hashes, TOTP secrets ciphertext, recovery codes bcrypt hashes.
 */
import type { Access, Principal } from './acl-types.ts';
import type { AdminRole } from './state.ts';
import type { BrokerConfigModel } from './broker-config/model.ts';
import type { CertificateFacts } from './broker-config/certificates.ts';

export type Actor = Readonly<{
  /** `token`: an API token (issue 17); `id` is the token's name. */
  kind: 'admin' | 'cli' | 'gitops' | 'import' | 'system' | 'token';
  id: string;
  ip?: string;
  request_id?: string;
}>;

export type DomainEvent =
  // MQTT users (Mosquitto password-file entries). `passwordHash` is the full `$7$…` hash field.
  | { type: 'MqttUserCreated'; data: { username: string; passwordHash: string; description: string; disabled: boolean } }
  | { type: 'MqttUserPasswordChanged'; data: { username: string; passwordHash: string } }
  | { type: 'MqttUserDescribed'; data: { username: string; description: string } }
  | { type: 'MqttUserDisabled'; data: { username: string } }
  | { type: 'MqttUserEnabled'; data: { username: string } }
  | { type: 'MqttUserDeleted'; data: { username: string } }
  // Roles and grants
  | { type: 'RoleDefined'; data: { role: string; description: string } }
  | { type: 'RoleDescribed'; data: { role: string; description: string } }
  | { type: 'RoleDeleted'; data: { role: string } }
  | { type: 'RoleGranted'; data: { username: string; role: string } }
  | { type: 'RoleRevoked'; data: { username: string; role: string } }
  // ACL rules; ids are integers assigned by decide from state.nextRuleId
  | { type: 'AclRuleAdded'; data: { id: number; principal: Principal; topic: string; access: Access; description: string } }
  | { type: 'AclRuleChanged'; data: { id: number; topic: string; access: Access; description: string } }
  | { type: 'AclRuleRemoved'; data: { id: number } }
  // JSON schemas (observe-only validation of payloads)
  | { type: 'SchemaAttached'; data: { id: number; name: string; topicFilter: string; schema: unknown; enabled: boolean; description: string } }
  | { type: 'SchemaChanged'; data: { id: number; name: string; topicFilter: string; schema: unknown; description: string } }
  | { type: 'SchemaEnabled'; data: { id: number } }
  | { type: 'SchemaDisabled'; data: { id: number } }
  | { type: 'SchemaDetached'; data: { id: number } }
  // Broker access settings
  | { type: 'AnonymousAccessChanged'; data: { allowed: boolean } }
  | { type: 'HashIterationsChanged'; data: { iterations: number } }
  // Admin users (people who use MCM)
  | { type: 'AdminUserCreated'; data: { username: string; passwordHash: string; role: AdminRole } }
  | { type: 'AdminUserPasswordChanged'; data: { username: string; passwordHash: string } }
  | { type: 'AdminUserRoleChanged'; data: { username: string; role: AdminRole } }
  | { type: 'AdminUserDisabled'; data: { username: string } }
  | { type: 'AdminUserEnabled'; data: { username: string } }
  | { type: 'AdminUserDeleted'; data: { username: string } }
  // MFA: secret is AES-256-GCM ciphertext (key outside the log); codes are bcrypt hashes
  | { type: 'MfaEnrolmentStarted'; data: { username: string; secretCiphertext: string; recoveryCodeHashes: string[] } }
  | { type: 'MfaEnabled'; data: { username: string } }
  | { type: 'MfaDisabled'; data: { username: string } }
  | { type: 'MfaRecoveryCodeUsed'; data: { username: string; index: number } }
  // Single sign-on (OpenID Connect): a user made at first sign-in has no local password; the
  // (issuer, subject) pair names the provider's account, so a later sign-in finds the same user
  | { type: 'SsoAdminUserCreated'; data: { username: string; role: AdminRole; issuer: string; subject: string } }
  | { type: 'AdminUserLinked'; data: { username: string; issuer: string; subject: string } }
  // Sign-out ends one session: its token id (the JWT's `jti`, not a secret) until the token expires
  | { type: 'AdminUserSignedOut'; data: { username: string; sessionId: string; expiresAt: string } }
  // API tokens (issue 17): only a keyed hash of the secret (HMAC-SHA256, key in secrets/);
  // `owner` is the admin user who created it (its role caps the token's), null for the local CLI
  | { type: 'ApiTokenCreated'; data: { name: string; tokenId: string; secretHash: string; role: AdminRole; owner: string | null; expiresAt: string | null } }
  | { type: 'ApiTokenRevoked'; data: { name: string; reason: string } }
  // Operator actions on the broker (DESIGN §7): audited, never the payload itself
  | { type: 'BrokerMessagePublished'; data: { topic: string; qos: 0 | 1 | 2; retain: boolean; bytes: number; payloadSha256: string } }
  | { type: 'RetainedMessageCleared'; data: { topic: string } }
  // Webhook endpoints; the signing secret is AES-256-GCM ciphertext (key outside the log)
  | { type: 'WebhookCreated'; data: { id: number; url: string; events: string[]; secretCiphertext: string; enabled: boolean; description: string } }
  | { type: 'WebhookChanged'; data: { id: number; url: string; events: string[]; enabled: boolean; description: string } }
  | { type: 'WebhookSecretRotated'; data: { id: number; secretCiphertext: string } }
  | { type: 'WebhookDeleted'; data: { id: number } }
  // Ownership of an operator's existing broker files (DESIGN §10): MCM may replace the file whose
  // bytes hash to `sha256` (the text an import planned on, or what a takeover found on disk)
  | { type: 'BrokerFilesAdopted'; data: { files: { file: 'password_file' | 'acl_file'; sha256: string; path: string | null }[]; how: 'import' | 'takeover' } }
  // Broker configuration (mosquitto.conf): the whole validated document; secrets by reference only
  | { type: 'BrokerConfigChanged'; data: { config: BrokerConfigModel } }
  // TLS certificates: facts and fingerprint only; the PEM and the private key live in secrets/
  | { type: 'CertificateAdded'; data: CertificateFacts }
  | { type: 'CertificateRemoved'; data: { name: string } };

export type EventType = DomainEvent['type'];
export type EventOf<T extends EventType> = Extract<DomainEvent, { type: T }>;

export type EventEnvelope<E extends DomainEvent = DomainEvent> = Readonly<E & {
  seq: number;
  stream: string;
  version: number;
  actor: Actor;
  at: string;
  prev_hash: string;
  hash: string;
}>;

/** Current payload schema version of each event type (DESIGN §4: `version`). */
export const EVENT_VERSION: Readonly<Record<EventType, number>> = {
  MqttUserCreated: 1, MqttUserPasswordChanged: 1, MqttUserDescribed: 1, MqttUserDisabled: 1,
  MqttUserEnabled: 1, MqttUserDeleted: 1,
  RoleDefined: 1, RoleDescribed: 1, RoleDeleted: 1, RoleGranted: 1, RoleRevoked: 1,
  AclRuleAdded: 1, AclRuleChanged: 1, AclRuleRemoved: 1,
  SchemaAttached: 1, SchemaChanged: 1, SchemaEnabled: 1, SchemaDisabled: 1, SchemaDetached: 1,
  AnonymousAccessChanged: 1, HashIterationsChanged: 1,
  AdminUserCreated: 1, AdminUserPasswordChanged: 1, AdminUserRoleChanged: 1, AdminUserDisabled: 1,
  AdminUserEnabled: 1, AdminUserDeleted: 1,
  MfaEnrolmentStarted: 1, MfaEnabled: 1, MfaDisabled: 1, MfaRecoveryCodeUsed: 1,
  SsoAdminUserCreated: 1, AdminUserLinked: 1, AdminUserSignedOut: 1,
  ApiTokenCreated: 1, ApiTokenRevoked: 1,
  BrokerMessagePublished: 1, RetainedMessageCleared: 1,
  WebhookCreated: 1, WebhookChanged: 1, WebhookSecretRotated: 1, WebhookDeleted: 1,
  BrokerFilesAdopted: 1,
  BrokerConfigChanged: 1, CertificateAdded: 1, CertificateRemoved: 1,
};

export const isEventType = (t: string): t is EventType => Object.hasOwn(EVENT_VERSION, t);

/**
 * Events that can change the rendered password_file or acl_file. Only these move the desired
 * generation (DESIGN §6); admin users, MFA and schemas never put the broker "pending".
 */
export const BROKER_FILE_EVENTS: ReadonlySet<EventType> = new Set<EventType>([
  'MqttUserCreated', 'MqttUserPasswordChanged', 'MqttUserDisabled', 'MqttUserEnabled', 'MqttUserDeleted',
  'RoleDeleted', 'RoleGranted', 'RoleRevoked',
  'AclRuleAdded', 'AclRuleChanged', 'AclRuleRemoved',
  'AnonymousAccessChanged',
  // Moves the generation so the apply loop runs and may now replace the adopted files.
  'BrokerFilesAdopted',
  // mosquitto.conf: listeners, options, bridges and the certificates they use.
  'BrokerConfigChanged', 'CertificateAdded', 'CertificateRemoved',
]);
