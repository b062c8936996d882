/**
 * The webhooks screen's data (issue 5, DESIGN §8): what a webhook can subscribe to (the names
 * of core/webhook-events.ts, WebhookEventType in docs/openapi.yaml), the URL rules the server
 * checks first (core/decide/webhooks.ts; where the host points is checked by the server only:
 * that needs DNS), and how a delivery reads. Pure, tested in tests/ui/webhook-model.test.ts.
 */
export type Webhook = { id: number; url: string; events: string[]; enabled: boolean; description: string; created_at: string; updated_at: string };
export type WebhookWithSecret = Webhook & { secret: string };

export type Delivery = {
  id: number;
  webhook_id: number;
  event_type: string;
  status: 'pending' | 'delivered' | 'dead';
  attempts: number;
  next_attempt_at: string | null;
  last_status_code: number | null;
  last_error: string | null;
  created_at: string;
  delivered_at: string | null;
  data?: unknown;
};

export const WEBHOOK_EVENTS: readonly { name: string; label: string; description: string }[] = [
  { name: 'event_appended', label: 'Admin changes', description: 'every change recorded in the event log (seq, entity, type, actor)' },
  { name: 'apply_applied', label: 'Apply confirmed', description: 'a configuration was written, reloaded and proven enforced' },
  { name: 'apply_failed', label: 'Apply failed', description: 'the broker did not take a configuration (the last good one is restored)' },
  { name: 'broker_down', label: 'Broker down', description: 'MCM lost the broker' },
  { name: 'broker_up', label: 'Broker up', description: 'the broker is reachable again' },
  { name: 'security_event', label: 'Security events', description: 'failed sign-ins, lockouts, drift, fail-open' },
  { name: 'schema_violation', label: 'Schema violations', description: 'an observed payload did not match its JSON schema' },
  { name: 'client_connected', label: 'Client connected', description: 'an MQTT client connected (can be frequent)' },
  { name: 'client_disconnected', label: 'Client disconnected', description: 'an MQTT client disconnected (can be frequent)' },
];

export const WEBHOOK_URL_MAX = 2048;

/** The problem with a webhook URL's shape, or null (the server also refuses private addresses). */
export const webhookUrlProblem = (value: string): string | null => {
  if (value.length === 0 || value.length > WEBHOOK_URL_MAX) return `the URL must be 1 to ${WEBHOOK_URL_MAX} characters`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'not an absolute URL (https://host/path)';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `the URL must use http or https (got ${url.protocol})`;
  if (url.username || url.password) return 'no credentials in the URL: the X-MCM-Signature header authenticates MCM';
  if (url.hash) return 'no #fragment in the URL';
  return null;
};

export const webhookEventsProblem = (events: readonly string[]): string | null => {
  if (events.length === 0) return 'choose at least one event';
  const unknown = events.filter((e) => !WEBHOOK_EVENTS.some((w) => w.name === e));
  return unknown.length > 0 ? `unknown event${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}` : null;
};

export const eventLabel = (name: string): string => WEBHOOK_EVENTS.find((e) => e.name === name)?.label ?? name;

/** The badge class and words for a delivery's state. */
export const deliveryState = (d: Delivery): { tone: 'ok' | 'warn' | 'error'; text: string } => {
  if (d.status === 'delivered') return { tone: 'ok', text: 'delivered' };
  if (d.status === 'dead') return { tone: 'error', text: 'failed (gave up)' };
  return { tone: 'warn', text: d.attempts === 0 ? 'pending' : 'retrying' };
};

/** "200", "503", or the transport error when there was no HTTP answer. */
export const responseText = (d: Delivery): string =>
  d.last_status_code !== null ? String(d.last_status_code) : d.last_error ?? (d.attempts === 0 ? 'not sent yet' : '—');
