/** Folding webhook endpoints: keyed by String(id) with a next-id counter, like ACL rules. */
import type { EventOf } from '../events.ts';
import type { BrokerConfig } from '../state.ts';
import { drop, own, put } from './records.ts';

export type WebhookEvent = EventOf<'WebhookCreated' | 'WebhookChanged' | 'WebhookSecretRotated' | 'WebhookDeleted'>;

export const evolveWebhook = (state: BrokerConfig, event: WebhookEvent, at: string): void => {
  const key = String(event.data.id);
  switch (event.type) {
    case 'WebhookCreated': {
      const { id, url, events, secretCiphertext, enabled, description } = event.data;
      put(state.webhooks, key, { id, url, events: [...events], secretCiphertext, enabled, description, createdAt: at, updatedAt: at });
      state.nextWebhookId = Math.max(state.nextWebhookId, id + 1);
      return;
    }
    case 'WebhookChanged': {
      const hook = own(state.webhooks, key);
      if (!hook) return;
      const { url, events, enabled, description } = event.data;
      put(state.webhooks, key, { ...hook, url, events: [...events], enabled, description, updatedAt: at });
      return;
    }
    case 'WebhookSecretRotated': {
      const hook = own(state.webhooks, key);
      if (hook) put(state.webhooks, key, { ...hook, secretCiphertext: event.data.secretCiphertext, updatedAt: at });
      return;
    }
    case 'WebhookDeleted':
      drop(state.webhooks, key);
      return;
    default: {
      const never: never = event;
      throw new Error(`unhandled webhook event ${JSON.stringify(never)}`);
    }
  }
};
