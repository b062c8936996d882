/**
 * ui/data/webhook-model.ts: the events offered are exactly the server's (core/webhook-events.ts),
 * the URL hint agrees with the core's shape check, and deliveries read right.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertWebhookUrl } from '../../core/decide/webhooks.ts';
import { WEBHOOK_EVENT_TYPES } from '../../core/webhook-events.ts';
import { deliveryState, eventLabel, responseText, WEBHOOK_EVENTS, webhookEventsProblem, webhookUrlProblem, type Delivery } from '../../ui/data/webhook-model.ts';

const URLS = [
  'https://hooks.example.com/mcm', 'http://example.com', 'ftp://example.com/x', 'https://user:pw@example.com/', 'https://example.com/#frag',
  'not a url', '', '/relative', 'https://example.com/a?b=c', `https://example.com/${'x'.repeat(2100)}`, 'HTTPS://EXAMPLE.COM',
];

const delivery = (over: Partial<Delivery>): Delivery => ({
  id: 1, webhook_id: 1, event_type: 'event_appended', status: 'pending', attempts: 0, next_attempt_at: null,
  last_status_code: null, last_error: null, created_at: '2026-01-01T00:00:00.000Z', delivered_at: null, ...over,
});

describe('ui/data webhook-model', () => {
  it('offers exactly the events the server accepts', () => {
    assert.deepEqual(WEBHOOK_EVENTS.map((e) => e.name).sort(), [...WEBHOOK_EVENT_TYPES].sort());
    assert.equal(webhookEventsProblem([]), 'choose at least one event');
    assert.equal(webhookEventsProblem(['event_appended', 'nope']), 'unknown event: nope');
    assert.equal(webhookEventsProblem([...WEBHOOK_EVENT_TYPES]), null);
    assert.equal(eventLabel('broker_down'), 'Broker down');
  });

  it('agrees with the core on URL shapes', () => {
    for (const url of URLS) {
      let serverOk = true;
      try { assertWebhookUrl(url); } catch { serverOk = false; }
      assert.equal(webhookUrlProblem(url) === null, serverOk, url.slice(0, 60));
    }
    assert.match(webhookUrlProblem('https://u:p@h/') ?? '', /credentials/);
  });

  it('reads deliveries', () => {
    assert.deepEqual(deliveryState(delivery({ status: 'delivered', attempts: 1, last_status_code: 200 })), { tone: 'ok', text: 'delivered' });
    assert.deepEqual(deliveryState(delivery({ status: 'dead', attempts: 8 })), { tone: 'error', text: 'failed (gave up)' });
    assert.deepEqual(deliveryState(delivery({})), { tone: 'warn', text: 'pending' });
    assert.deepEqual(deliveryState(delivery({ attempts: 2 })), { tone: 'warn', text: 'retrying' });
    assert.equal(responseText(delivery({ last_status_code: 503, last_error: 'HTTP 503' })), '503');
    assert.equal(responseText(delivery({ attempts: 1, last_error: 'connect ECONNREFUSED' })), 'connect ECONNREFUSED');
    assert.equal(responseText(delivery({})), 'not sent yet');
  });
});
