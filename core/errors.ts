/**
 * Domain errors carry a stable code (`MCM_ERR_*`). Only the HTTP adapter maps codes to statuses
 * (adapters/http/errors.ts); the CLI maps them to exit codes. Outside scripts depend on the codes.
 */
export type ErrorDetail = Readonly<Record<string, unknown>>;

export class DomainError extends Error {
  readonly code: string;
  readonly details: readonly ErrorDetail[];
  constructor(code: string, message: string, details: readonly ErrorDetail[] = []) {
    super(message);
    this.name = 'DomainError';
    this.code = code;
    this.details = details;
  }
}

export const isDomainError = (e: unknown): e is DomainError => e instanceof DomainError;

/** Every code the core can raise, so adapters can map them exhaustively. */
export const ERROR_CODES = {
  VALIDATION: 'MCM_ERR_VALIDATION',
  USERNAME_INVALID: 'MCM_ERR_USERNAME_INVALID',
  USERNAME_RESERVED: 'MCM_ERR_USERNAME_RESERVED',
  ROLE_NAME_INVALID: 'MCM_ERR_ROLE_NAME_INVALID',
  TOPIC_FILTER_INVALID: 'MCM_ERR_TOPIC_FILTER_INVALID',
  TOPIC_NAME_INVALID: 'MCM_ERR_TOPIC_NAME_INVALID',
  ACCESS_INVALID: 'MCM_ERR_ACCESS_INVALID',
  PRINCIPAL_INVALID: 'MCM_ERR_PRINCIPAL_INVALID',
  DESCRIPTION_INVALID: 'MCM_ERR_DESCRIPTION_INVALID',
  MQTT_USER_EXISTS: 'MCM_ERR_MQTT_USER_EXISTS',
  MQTT_USER_NOT_FOUND: 'MCM_ERR_MQTT_USER_NOT_FOUND',
  ROLE_EXISTS: 'MCM_ERR_ROLE_EXISTS',
  ROLE_NOT_FOUND: 'MCM_ERR_ROLE_NOT_FOUND',
  ROLE_IN_USE: 'MCM_ERR_ROLE_IN_USE',
  ROLE_ALREADY_GRANTED: 'MCM_ERR_ROLE_ALREADY_GRANTED',
  ROLE_NOT_GRANTED: 'MCM_ERR_ROLE_NOT_GRANTED',
  ACL_RULE_NOT_FOUND: 'MCM_ERR_ACL_RULE_NOT_FOUND',
  ACL_RULE_EXISTS: 'MCM_ERR_ACL_RULE_EXISTS',
  /** The chosen enforcement backend cannot express it (issue 15: a pattern rule with dynsec). */
  BACKEND_UNSUPPORTED: 'MCM_ERR_BACKEND_UNSUPPORTED',
  SCHEMA_NOT_FOUND: 'MCM_ERR_SCHEMA_NOT_FOUND',
  SCHEMA_INVALID: 'MCM_ERR_SCHEMA_INVALID',
  PASSWORD_HASH_INVALID: 'MCM_ERR_PASSWORD_HASH_INVALID',
  SETTINGS_INVALID: 'MCM_ERR_SETTINGS_INVALID',
  ADMIN_USER_EXISTS: 'MCM_ERR_ADMIN_USER_EXISTS',
  ADMIN_USER_NOT_FOUND: 'MCM_ERR_ADMIN_USER_NOT_FOUND',
  ADMIN_ROLE_INVALID: 'MCM_ERR_ADMIN_ROLE_INVALID',
  LAST_ADMIN: 'MCM_ERR_LAST_ADMIN',
  MFA_STATE: 'MCM_ERR_MFA_STATE',
  /** API tokens (issue 17). */
  TOKEN_NAME_INVALID: 'MCM_ERR_TOKEN_NAME_INVALID',
  TOKEN_EXISTS: 'MCM_ERR_TOKEN_EXISTS',
  TOKEN_NOT_FOUND: 'MCM_ERR_TOKEN_NOT_FOUND',
  /** A token may not get a role above its creator's. */
  TOKEN_ROLE_TOO_HIGH: 'MCM_ERR_TOKEN_ROLE_TOO_HIGH',
  STALE_STREAM: 'MCM_ERR_STALE_STREAM',
  WEBHOOK_NOT_FOUND: 'MCM_ERR_WEBHOOK_NOT_FOUND',
  WEBHOOK_INVALID: 'MCM_ERR_WEBHOOK_INVALID',
  /** The webhook URL's host resolves to a loopback/private/link-local/… address (SSRF); config webhooks.allow_private. */
  WEBHOOK_PRIVATE_ADDRESS: 'MCM_ERR_WEBHOOK_PRIVATE_ADDRESS',
  PUBLISH_INVALID: 'MCM_ERR_PUBLISH_INVALID',
  EVENT_UNKNOWN: 'MCM_ERR_EVENT_UNKNOWN',
  /** A GitOps bundle (YAML files or JSON) that is malformed or inconsistent; details list every problem. */
  GITOPS_INVALID: 'MCM_ERR_GITOPS_INVALID',
  /**
   * Broker files given to import (issue 11) hold lines the broker would refuse or misread, or that
   * MCM cannot represent; details list every problem `{file, line, message}` (at most 1,000).
   */
  IMPORT_INVALID: 'MCM_ERR_IMPORT_INVALID',
  /** A broker configuration (listeners, options, bridges, passthrough) the catalog refuses; details list every problem `{field, message}`. */
  BROKER_CONFIG_INVALID: 'MCM_ERR_BROKER_CONFIG_INVALID',
  LISTENER_NOT_FOUND: 'MCM_ERR_LISTENER_NOT_FOUND',
  BRIDGE_NOT_FOUND: 'MCM_ERR_BRIDGE_NOT_FOUND',
  /** A certificate or key that fails the checks (parse, key match, validity dates, chain to the CA). */
  CERTIFICATE_INVALID: 'MCM_ERR_CERTIFICATE_INVALID',
  CERTIFICATE_EXISTS: 'MCM_ERR_CERTIFICATE_EXISTS',
  CERTIFICATE_NOT_FOUND: 'MCM_ERR_CERTIFICATE_NOT_FOUND',
  CERTIFICATE_IN_USE: 'MCM_ERR_CERTIFICATE_IN_USE',
  /**
   * Raised by adapters: a broker configuration change that restarts the broker was sent without
   * confirming the previewed state (If-Match with the seq the preview returned).
   */
  RESTART_NOT_CONFIRMED: 'MCM_ERR_RESTART_NOT_CONFIRMED',
  /** Raised by adapters: external mode, where MCM does not write the broker's mosquitto.conf. */
  BROKER_CONFIG_UNMANAGED: 'MCM_ERR_BROKER_CONFIG_UNMANAGED',
  /**
   * Raised by EventStore adapters, not by decide: the disk holding the event log is full. Nothing
   * was appended; the same command succeeds once space is freed.
   */
  STORAGE_FULL: 'MCM_ERR_STORAGE_FULL',
  /**
   * Raised by EventStore adapters: another process holds the database's write lock. Nothing was
   * appended; retry once the other process lets go.
   */
  STORAGE_BUSY: 'MCM_ERR_STORAGE_BUSY',
  /** Single sign-on: the provider's user has no MCM admin user and auth.oidc.create_users is off. */
  SSO_USER_UNKNOWN: 'MCM_ERR_SSO_USER_UNKNOWN',
  /** Single sign-on: the admin username is already linked to another account of a provider. */
  SSO_ACCOUNT_CONFLICT: 'MCM_ERR_SSO_ACCOUNT_CONFLICT',
  /** Single sign-on: the provider vouched for the user, but the MCM admin user is disabled. */
  ADMIN_USER_DISABLED: 'MCM_ERR_ADMIN_USER_DISABLED',
} as const;
export type ErrorCode = (typeof ERROR_CODES)[keyof typeof ERROR_CODES];
