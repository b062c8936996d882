/**
 * Commands: what HTTP, the CLI, GitOps and bootstrap ask for. Impure inputs (password hashes,
 * generated secrets, compiled-and-checked JSON schemas) are computed by adapters before the
 * command is built; `decide` never hashes, reads the clock or draws randomness.
 */
import type { Access, Principal } from './acl-types.ts';
import type { AdminRole } from './state.ts';
import type { ImportInput } from './import/import-types.ts';
import type { CertificateFacts } from './broker-config/certificates.ts';

export type RuleSpec = { topic: string; access: Access; description?: string };

export type Command =
  | { type: 'CreateMqttUser'; data: { username: string; passwordHash: string; description?: string; roles?: string[]; disabled?: boolean } }
  | { type: 'ChangeMqttUserPassword'; data: { username: string; passwordHash: string } }
  /** PUT semantics for the given fields; `roles` replaces the granted set (grants and revokes). */
  | { type: 'UpdateMqttUser'; data: { username: string; description?: string; roles?: string[]; disabled?: boolean } }
  /** Also removes the user's direct ACL rules in the same append (DESIGN §5). */
  | { type: 'DeleteMqttUser'; data: { username: string } }
  | { type: 'DefineRole'; data: { name: string; description?: string; rules?: RuleSpec[] } }
  /** `rules`, when given, replaces the role's rule set (unchanged rules keep their ids). */
  | { type: 'UpdateRole'; data: { name: string; description?: string; rules?: RuleSpec[] } }
  /** Refused while granted to any user; removes the role's rules in the same append. */
  | { type: 'DeleteRole'; data: { name: string } }
  | { type: 'GrantRole'; data: { username: string; role: string } }
  | { type: 'RevokeRole'; data: { username: string; role: string } }
  | { type: 'AddAclRule'; data: { principal: Principal | string; topic: string; access: Access | string; description?: string } }
  | { type: 'ChangeAclRule'; data: { id: number; topic?: string; access?: Access | string; description?: string } }
  | { type: 'RemoveAclRule'; data: { id: number } }
  /** `schema` has already been compiled by the adapter (ajv); core checks only its shape. */
  | { type: 'AttachSchema'; data: { name: string; topicFilter: string; schema: unknown; enabled?: boolean; description?: string } }
  | { type: 'ChangeSchema'; data: { id: number; name?: string; topicFilter?: string; schema?: unknown; enabled?: boolean; description?: string } }
  | { type: 'DetachSchema'; data: { id: number } }
  | { type: 'ChangeSettings'; data: { allowAnonymous?: boolean; hashIterations?: number } }
  | { type: 'CreateAdminUser'; data: { username: string; passwordHash: string; role: AdminRole | string } }
  | { type: 'UpdateAdminUser'; data: { username: string; role?: AdminRole | string; disabled?: boolean; passwordHash?: string } }
  | { type: 'DeleteAdminUser'; data: { username: string } }
  | { type: 'StartMfaEnrolment'; data: { username: string; secretCiphertext: string; recoveryCodeHashes: string[] } }
  /**
   * `secretCiphertext`: the pending enrolment whose code the adapter verified. decide enables only
   * that one: a second setup started meanwhile is not enabled by a code from the first.
   */
  | { type: 'EnableMfa'; data: { username: string; secretCiphertext: string } }
  | { type: 'DisableMfa'; data: { username: string } }
  /** `codeHash`: the stored hash the adapter matched at `index`; decide spends it only if it is still there, unused. */
  | { type: 'UseRecoveryCode'; data: { username: string; index: number; codeHash: string } }
  /**
   * A sign-in through OpenID Connect whose ID token the adapter has validated: `role` is the one the
   * provider's groups map to (re-evaluated at every sign-in); `username` is used only for a user
   * not linked yet; `createUsers` is config auth.oidc.create_users.
   */
  | { type: 'SignInWithSso'; data: { username: string; issuer: string; subject: string; role: AdminRole | string; createUsers: boolean } }
  /** `sessionId`: the `jti` of the session token to end; `expiresAt`: when it would expire anyway. */
  | { type: 'SignOutAdminUser'; data: { username: string; sessionId: string; expiresAt: string } }
  /**
   * The adapter drew the token id and secret and hashed the secret with its key (issue 17);
   * `owner`: the signed-in admin creating it (null: the local CLI, which is admin on this host).
   * `expiresAt`: computed by the adapter from its clock, or null for no expiry.
   */
  | { type: 'CreateApiToken'; data: { name: string; tokenId: string; secretHash: string; role: AdminRole | string; owner: string | null; expiresAt: string | null } }
  | { type: 'RevokeApiToken'; data: { name: string } }
  /** Recorded for the audit view; the adapter publishes as the service account after appending. */
  | { type: 'PublishMessage'; data: { topic: string; qos: number; retain: boolean; bytes: number; payloadSha256: string } }
  | { type: 'ClearRetained'; data: { topic: string } }
  /** `url` has been checked against private ranges by the adapter (config webhooks.allow_private). */
  | { type: 'CreateWebhook'; data: { url: string; events: string[]; secretCiphertext: string; enabled?: boolean; description?: string } }
  | { type: 'UpdateWebhook'; data: { id: number; url?: string; events?: string[]; enabled?: boolean; description?: string } }
  | { type: 'RotateWebhookSecret'; data: { id: number; secretCiphertext: string } }
  | { type: 'DeleteWebhook'; data: { id: number } }
  /**
   * Makes MCM's users and rules decide exactly as the given files do (issue "Adopt an existing
   * Mosquitto"), as one batch, and records the files as adopted. Refused whole, with line
   * numbers, when any line is malformed or cannot be represented.
   */
  | { type: 'ImportBrokerFiles'; data: ImportInput }
  /** `--force-takeover`: MCM may replace these foreign files without importing them (originals kept as .pre-mcm). */
  | { type: 'TakeOverBrokerFiles'; data: { files: { file: 'password_file' | 'acl_file'; sha256: string; path: string | null }[] } }
  /** Replaces the whole broker configuration (listeners, options, bridges, passthrough); validated by the catalog. */
  | { type: 'SetBrokerConfig'; data: { config: unknown } }
  /** Adds or replaces the listener of that name. */
  | { type: 'SetBrokerListener'; data: { listener: unknown } }
  | { type: 'RemoveBrokerListener'; data: { name: string } }
  /** Adds or replaces the bridge of that name; `remotePasswordRef` names a secret the adapter stored. */
  | { type: 'SetBrokerBridge'; data: { bridge: unknown } }
  | { type: 'RemoveBrokerBridge'; data: { name: string } }
  /**
   * A certificate (and its key, stored by the adapter in `secrets/`) that the adapter has checked:
   * key matches, dates valid, chain to `ca`. `replace` swaps the certificate of an existing name
   * (rotation): listeners that use it get the new one on the next apply.
   */
  | { type: 'AddCertificate'; data: CertificateFacts & { replace?: boolean } }
  /** Refused while a listener or bridge uses it. */
  | { type: 'RemoveCertificate'; data: { name: string } };

export type CommandType = Command['type'];
export type CommandOf<T extends CommandType> = Extract<Command, { type: T }>;
