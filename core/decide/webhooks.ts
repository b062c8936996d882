/**
 * Webhook endpoints (admin-managed, event-sourced). The URL's shape is checked here; whether its
 * host resolves to a private range needs DNS, so the adapter checks that before deciding.
 */
import type { CommandOf } from '../commands.ts';
import { DomainError, ERROR_CODES } from '../errors.ts';
import type { DomainEvent } from '../events.ts';
import type { BrokerConfig, Webhook } from '../state.ts';
import { isWebhookEventType, WEBHOOK_EVENT_TYPES } from '../webhook-events.ts';
import { assertBoolean, assertId, optionalDescription, own, show } from './guards.ts';

const MAX_URL_LENGTH = 2048;
const SEALED = /^v1\.[A-Za-z0-9+/=]+\.[A-Za-z0-9+/=]+\.[A-Za-z0-9+/=]*$/;

const invalid = (message: string, field: string, value: unknown): DomainError =>
  new DomainError(ERROR_CODES.WEBHOOK_INVALID, message, [{ field, value }]);

export const assertWebhookUrl = (value: unknown): string => {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_URL_LENGTH) {
    throw invalid(`url must be a string of 1..${MAX_URL_LENGTH} characters`, 'url', typeof value === 'string' ? value.slice(0, 100) : value);
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid(`url is not an absolute URL: ${show(value)}`, 'url', value);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalid(`url must use http or https (got ${url.protocol})`, 'url', value);
  // Credentials in a URL end up in logs and audit views; the signing secret authenticates instead.
  if (url.username || url.password) throw invalid('url must not contain credentials: the X-MCM-Signature header authenticates MCM', 'url', '[redacted]');
  if (url.hash) throw invalid('url must not contain a #fragment', 'url', value);
  return url.toString();
};

const assertEvents = (value: unknown): string[] => {
  if (!Array.isArray(value) || value.length === 0) {
    throw invalid(`events must be a non-empty list of: ${WEBHOOK_EVENT_TYPES.join(', ')}`, 'events', value);
  }
  for (const e of value) {
    if (!isWebhookEventType(e)) throw invalid(`unknown webhook event ${show(e)}; allowed: ${WEBHOOK_EVENT_TYPES.join(', ')}`, 'events', e);
  }
  return [...new Set(value as string[])].sort();
};

const assertSealed = (value: unknown): string => {
  if (typeof value !== 'string' || !SEALED.test(value)) throw invalid('secretCiphertext must be a sealed secret', 'secretCiphertext', '[redacted]');
  return value;
};

const requireWebhook = (state: BrokerConfig, id: unknown): Webhook => {
  const key = assertId(id);
  const hook = own(state.webhooks, String(key));
  if (!hook) throw new DomainError(ERROR_CODES.WEBHOOK_NOT_FOUND, `webhook ${key} does not exist`, [{ id: key }]);
  return hook;
};

export const createWebhook = (c: CommandOf<'CreateWebhook'>, state: BrokerConfig): DomainEvent[] => {
  const url = assertWebhookUrl(c.data.url);
  const events = assertEvents(c.data.events);
  const secretCiphertext = assertSealed(c.data.secretCiphertext);
  const enabled = c.data.enabled === undefined ? true : assertBoolean(c.data.enabled, 'enabled', ERROR_CODES.WEBHOOK_INVALID);
  const description = optionalDescription(c.data.description) ?? '';
  return [{ type: 'WebhookCreated', data: { id: state.nextWebhookId, url, events, secretCiphertext, enabled, description } }];
};

export const updateWebhook = (c: CommandOf<'UpdateWebhook'>, state: BrokerConfig): DomainEvent[] => {
  const hook = requireWebhook(state, c.data.id);
  const url = c.data.url === undefined ? hook.url : assertWebhookUrl(c.data.url);
  const events = c.data.events === undefined ? hook.events : assertEvents(c.data.events);
  const enabled = c.data.enabled === undefined ? hook.enabled : assertBoolean(c.data.enabled, 'enabled', ERROR_CODES.WEBHOOK_INVALID);
  const description = optionalDescription(c.data.description) ?? hook.description;
  const unchanged = url === hook.url && enabled === hook.enabled && description === hook.description &&
    events.length === hook.events.length && events.every((e, i) => e === hook.events[i]);
  if (unchanged) return [];
  return [{ type: 'WebhookChanged', data: { id: hook.id, url, events, enabled, description } }];
};

export const rotateWebhookSecret = (c: CommandOf<'RotateWebhookSecret'>, state: BrokerConfig): DomainEvent[] => {
  const hook = requireWebhook(state, c.data.id);
  return [{ type: 'WebhookSecretRotated', data: { id: hook.id, secretCiphertext: assertSealed(c.data.secretCiphertext) } }];
};

export const deleteWebhook = (c: CommandOf<'DeleteWebhook'>, state: BrokerConfig): DomainEvent[] => {
  const hook = requireWebhook(state, c.data.id);
  return [{ type: 'WebhookDeleted', data: { id: hook.id } }];
};
