/**
 * The audit view (DESIGN §4): one row per recorded event — who did what to which entity, when —
 * with every secret redacted. Pure: envelopes in, rows out; the HTTP adapter reads the log and
 * pages through it.
 *
 * Redaction is by key name, as pino's redact does: any data key matching /hash|secret|ciphertext/i
 * becomes '[redacted]' (password hashes, TOTP ciphertext, recovery-code hashes). Events never
 * carry plaintext (DESIGN §4); hashes are still not for display (an offline guess is cheap for
 * Mosquitto's 101-iteration PBKDF2).
 */
import type { Actor, EventEnvelope } from '../core/events.ts';

export const REDACTED = '[redacted]';
const SECRET_KEY = /hash|secret|ciphertext/i;

/** A deep copy of `value` with every member whose key names a secret replaced by '[redacted]'. */
export const redactSecrets = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(redactSecrets);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    // defineProperty: a key such as "__proto__" stays data, never a prototype (JSON can carry it).
    Object.defineProperty(out, k, { value: SECRET_KEY.test(k) ? REDACTED : redactSecrets(v), enumerable: true, writable: true, configurable: true });
  }
  return out;
};

export type RedactOptions = Readonly<{
  /**
   * Webhook URLs often carry a token in the path or query (`https://hooks.example/T0/B1/xyz`): only
   * admins (who manage webhooks) see them whole; everyone else sees the origin.
   */
  fullWebhookUrls: boolean;
}>;

/** `https://hooks.example:8443/services/T0/B1/xyz?token=…` → `https://hooks.example:8443`. */
export const urlOrigin = (url: string): string => {
  try {
    const origin = new URL(url).origin;
    return origin === 'null' ? REDACTED : origin;
  } catch {
    return REDACTED;
  }
};

/** An event's payload as a reader with these options may see it: secrets redacted, webhook URLs cut to their origin. */
export const redactEventData = (e: Pick<EventEnvelope, 'type' | 'data'>, opts: RedactOptions): unknown => {
  const data = redactSecrets(e.data);
  if (opts.fullWebhookUrls || (e.type !== 'WebhookCreated' && e.type !== 'WebhookChanged')) return data;
  const d = data as Record<string, unknown>;
  return typeof d['url'] === 'string' ? { ...d, url: urlOrigin(d['url']) } : data;
};

export type AuditRow = {
  seq: number;
  at: string;
  actor: Actor;
  /** The event type, e.g. MqttUserCreated. */
  action: string;
  /** The stream, e.g. mqtt-user:alice. */
  resource: string;
  /** Every recorded event is a change that happened; refusals are not events. */
  result: 'ok';
  summary: string;
  data: unknown;
};

const q = (s: string): string => JSON.stringify(s);

/** One readable English line per event; names quoted so odd usernames stay unambiguous. */
export const summarize = (e: EventEnvelope): string => {
  switch (e.type) {
    case 'MqttUserCreated': return `MQTT user ${q(e.data.username)} created${e.data.disabled ? ' (disabled)' : ''}`;
    case 'MqttUserPasswordChanged': return `password of MQTT user ${q(e.data.username)} changed`;
    case 'MqttUserDescribed': return `description of MQTT user ${q(e.data.username)} changed`;
    case 'MqttUserDisabled': return `MQTT user ${q(e.data.username)} disabled`;
    case 'MqttUserEnabled': return `MQTT user ${q(e.data.username)} enabled`;
    case 'MqttUserDeleted': return `MQTT user ${q(e.data.username)} deleted`;
    case 'RoleDefined': return `role ${q(e.data.role)} defined`;
    case 'RoleDescribed': return `description of role ${q(e.data.role)} changed`;
    case 'RoleDeleted': return `role ${q(e.data.role)} deleted`;
    case 'RoleGranted': return `role ${q(e.data.role)} granted to ${q(e.data.username)}`;
    case 'RoleRevoked': return `role ${q(e.data.role)} revoked from ${q(e.data.username)}`;
    case 'AclRuleAdded': return `ACL rule ${e.data.id} added: ${e.data.principal} ${e.data.access} ${q(e.data.topic)}`;
    case 'AclRuleChanged': return `ACL rule ${e.data.id} changed: ${e.data.access} ${q(e.data.topic)}`;
    case 'AclRuleRemoved': return `ACL rule ${e.data.id} removed`;
    case 'SchemaAttached': return `JSON schema ${e.data.id} ${q(e.data.name)} attached to ${q(e.data.topicFilter)}`;
    case 'SchemaChanged': return `JSON schema ${e.data.id} ${q(e.data.name)} changed`;
    case 'SchemaEnabled': return `JSON schema ${e.data.id} enabled`;
    case 'SchemaDisabled': return `JSON schema ${e.data.id} disabled`;
    case 'SchemaDetached': return `JSON schema ${e.data.id} detached`;
    case 'AnonymousAccessChanged': return `anonymous access ${e.data.allowed ? 'allowed' : 'refused'}`;
    case 'HashIterationsChanged': return `hash iterations set to ${e.data.iterations}`;
    case 'AdminUserCreated': return `admin user ${q(e.data.username)} created with role ${e.data.role}`;
    case 'AdminUserPasswordChanged': return `password of admin user ${q(e.data.username)} changed`;
    case 'AdminUserRoleChanged': return `role of admin user ${q(e.data.username)} set to ${e.data.role}`;
    case 'AdminUserDisabled': return `admin user ${q(e.data.username)} disabled`;
    case 'AdminUserEnabled': return `admin user ${q(e.data.username)} enabled`;
    case 'AdminUserDeleted': return `admin user ${q(e.data.username)} deleted`;
    case 'MfaEnrolmentStarted': return `MFA enrolment started for ${q(e.data.username)}`;
    case 'MfaEnabled': return `MFA enabled for ${q(e.data.username)}`;
    case 'MfaDisabled': return `MFA disabled for ${q(e.data.username)}`;
    case 'MfaRecoveryCodeUsed': return `recovery code used by ${q(e.data.username)}`;
    case 'SsoAdminUserCreated': return `admin user ${q(e.data.username)} created at single sign-on with role ${e.data.role}`;
    case 'AdminUserLinked': return `admin user ${q(e.data.username)} linked to single sign-on (${e.data.issuer})`;
    case 'AdminUserSignedOut': return `admin user ${q(e.data.username)} signed out`;
    case 'BrokerMessagePublished': return `message published to ${q(e.data.topic)} (QoS ${e.data.qos}${e.data.retain ? ', retained' : ''}, ${e.data.bytes} bytes)`;
    case 'RetainedMessageCleared': return `retained message on ${q(e.data.topic)} cleared`;
    case 'WebhookCreated': return `webhook ${e.data.id} created for ${e.data.events.join(', ')}`;
    case 'WebhookChanged': return `webhook ${e.data.id} changed`;
    case 'WebhookSecretRotated': return `signing secret of webhook ${e.data.id} rotated`;
    case 'WebhookDeleted': return `webhook ${e.data.id} deleted`;
    case 'BrokerFilesAdopted': {
      const files = e.data.files.map((f) => (f.path === null ? f.file : `${f.file} ${q(f.path)}`)).join(', ');
      return `${e.data.how === 'import' ? 'imported' : 'took over'} broker files: ${files}`;
    }
    case 'BrokerConfigChanged': {
      const c = e.data.config;
      return `broker configuration changed: ${c.listeners.length} listener${c.listeners.length === 1 ? '' : 's'}, ${Object.keys(c.options).length} option${Object.keys(c.options).length === 1 ? '' : 's'}, ${c.bridges.length} bridge${c.bridges.length === 1 ? '' : 's'}`;
    }
    case 'CertificateAdded': return `certificate ${q(e.data.name)} added (${e.data.subject}, expires ${e.data.notAfter})`;
    case 'CertificateRemoved': return `certificate ${q(e.data.name)} removed`;
    case 'ApiTokenCreated': return `API token ${q(e.data.name)} created with role ${e.data.role}${e.data.expiresAt === null ? '' : `, expires ${e.data.expiresAt}`}`;
    case 'ApiTokenRevoked': return `API token ${q(e.data.name)} revoked${e.data.reason === 'revoked' ? '' : `: ${e.data.reason}`}`;
    default: {
      const never: never = e;
      return `event ${(never as { type: string }).type}`;
    }
  }
};

export const auditRow = (e: EventEnvelope, opts: RedactOptions = { fullWebhookUrls: false }): AuditRow => ({
  seq: e.seq,
  at: e.at,
  actor: e.actor,
  action: e.type,
  resource: e.stream,
  result: 'ok',
  summary: summarize(e),
  data: redactEventData(e, opts),
});

export type AuditFilter = Readonly<{
  /** Matches actor.id exactly. */
  actor?: string;
  /** Event type(s), e.g. MqttUserCreated. */
  types?: readonly string[];
  /**
   * Inclusive bounds as ISO-8601 UTC with milliseconds (`toISOString()` form, normalised by the
   * adapter): `at` always has that form (the Clock port), so text order is time order.
   */
  since?: string;
  until?: string;
}>;

/** Whether an envelope passes the filter (before it is turned into a row). */
export const auditMatches = (e: EventEnvelope, f: AuditFilter): boolean => {
  if (f.actor !== undefined && e.actor.id !== f.actor) return false;
  if (f.types !== undefined && f.types.length > 0 && !f.types.includes(e.type)) return false;
  if (f.since !== undefined && e.at < f.since) return false;
  if (f.until !== undefined && e.at > f.until) return false;
  return true;
};
