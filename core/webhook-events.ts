/**
 * What a webhook can subscribe to (issue "Live broker observability"): admin changes, apply
 * results, broker liveness, security events, schema violations, client connects/disconnects.
 * Snake_case transport names, as on the ws hub (STYLE §2.2).
 */
export const WEBHOOK_EVENT_TYPES = [
  'event_appended',
  'apply_applied',
  'apply_failed',
  'broker_down',
  'broker_up',
  'security_event',
  'schema_violation',
  'client_connected',
  'client_disconnected',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export const isWebhookEventType = (t: unknown): t is WebhookEventType =>
  typeof t === 'string' && (WEBHOOK_EVENT_TYPES as readonly string[]).includes(t);
