import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { given } from '../helpers/decider-spec.ts';
import type { DomainEvent } from '../../core/events.ts';
import { fold } from '../../core/evolve.ts';

const SEALED = 'v1.aXY=.dGFn.Y3Q=';
const sha = 'c'.repeat(64);
const hook = (id = 1): DomainEvent => ({
  type: 'WebhookCreated',
  data: { id, url: 'https://hooks.example.com/mcm', events: ['apply_failed'], secretCiphertext: SEALED, enabled: true, description: '' },
});

describe('PublishMessage (operator publish is audited, DESIGN §7)', () => {
  it('records topic, qos, retain, size and digest — never the payload', () => {
    given([]).when({ type: 'PublishMessage', data: { topic: 'plant/1/temp', qos: 1, retain: true, bytes: 4, payloadSha256: sha } })
      .then([{ type: 'BrokerMessagePublished', data: { topic: 'plant/1/temp', qos: 1, retain: true, bytes: 4, payloadSha256: sha } }]);
  });
  it('refuses wildcards in a topic name [MQTT-3.3.2-2]', () => {
    given([]).when({ type: 'PublishMessage', data: { topic: 'plant/+', qos: 0, retain: false, bytes: 0, payloadSha256: sha } })
      .thenThrows('MCM_ERR_TOPIC_NAME_INVALID');
  });
  it("refuses '$' topics, reserved for the broker [MQTT-4.7.2-1]", () => {
    given([]).when({ type: 'PublishMessage', data: { topic: '$SYS/x', qos: 0, retain: false, bytes: 0, payloadSha256: sha } })
      .thenThrows('MCM_ERR_PUBLISH_INVALID');
  });
  it('refuses qos 3, a non-boolean retain and a malformed digest', () => {
    given([]).when({ type: 'PublishMessage', data: { topic: 'a', qos: 3, retain: false, bytes: 0, payloadSha256: sha } }).thenThrows('MCM_ERR_PUBLISH_INVALID');
    given([]).when({ type: 'PublishMessage', data: { topic: 'a', qos: 0, retain: 'yes' as unknown as boolean, bytes: 0, payloadSha256: sha } }).thenThrows('MCM_ERR_PUBLISH_INVALID');
    given([]).when({ type: 'PublishMessage', data: { topic: 'a', qos: 0, retain: false, bytes: 0, payloadSha256: 'xyz' } }).thenThrows('MCM_ERR_PUBLISH_INVALID');
  });
  it('clears a retained message on a valid topic and refuses a filter', () => {
    given([]).when({ type: 'ClearRetained', data: { topic: 'plant/1' } }).then([{ type: 'RetainedMessageCleared', data: { topic: 'plant/1' } }]);
    given([]).when({ type: 'ClearRetained', data: { topic: 'plant/#' } }).thenThrows('MCM_ERR_TOPIC_NAME_INVALID');
  });
});

describe('webhooks', () => {
  it('creates a webhook with the next id, sorted unique events, enabled by default', () => {
    given([]).when({ type: 'CreateWebhook', data: { url: 'https://hooks.example.com/mcm', events: ['broker_up', 'apply_failed', 'broker_up'], secretCiphertext: SEALED } })
      .then([{ type: 'WebhookCreated', data: { id: 1, url: 'https://hooks.example.com/mcm', events: ['apply_failed', 'broker_up'], secretCiphertext: SEALED, enabled: true, description: '' } }]);
  });
  it('refuses non-http URLs, credentials in the URL, unknown event types and an empty event list', () => {
    const base = { events: ['apply_failed'], secretCiphertext: SEALED };
    given([]).when({ type: 'CreateWebhook', data: { ...base, url: 'ftp://x.example.com/' } }).thenThrows('MCM_ERR_WEBHOOK_INVALID');
    given([]).when({ type: 'CreateWebhook', data: { ...base, url: 'https://user:pw@x.example.com/' } }).thenThrows('MCM_ERR_WEBHOOK_INVALID');
    given([]).when({ type: 'CreateWebhook', data: { ...base, url: 'not a url' } }).thenThrows('MCM_ERR_WEBHOOK_INVALID');
    given([]).when({ type: 'CreateWebhook', data: { ...base, url: 'https://x.example.com/', events: ['everything'] } }).thenThrows('MCM_ERR_WEBHOOK_INVALID');
    given([]).when({ type: 'CreateWebhook', data: { ...base, url: 'https://x.example.com/', events: [] } }).thenThrows('MCM_ERR_WEBHOOK_INVALID');
  });
  it('refuses a plaintext secret (only sealed secrets enter the log, DESIGN §4)', () => {
    given([]).when({ type: 'CreateWebhook', data: { url: 'https://x.example.com/', events: ['broker_up'], secretCiphertext: 'plain-secret' } })
      .thenThrows('MCM_ERR_WEBHOOK_INVALID');
  });
  it('changes only what differs; an unchanged update is a no-op', () => {
    given([hook()]).when({ type: 'UpdateWebhook', data: { id: 1, enabled: false } })
      .then([{ type: 'WebhookChanged', data: { id: 1, url: 'https://hooks.example.com/mcm', events: ['apply_failed'], enabled: false, description: '' } }]);
    given([hook()]).when({ type: 'UpdateWebhook', data: { id: 1, events: ['apply_failed'] } }).then([]);
  });
  it('rotates the secret and deletes; a missing webhook is MCM_ERR_WEBHOOK_NOT_FOUND', () => {
    given([hook()]).when({ type: 'RotateWebhookSecret', data: { id: 1, secretCiphertext: SEALED } })
      .then([{ type: 'WebhookSecretRotated', data: { id: 1, secretCiphertext: SEALED } }]);
    given([hook()]).when({ type: 'DeleteWebhook', data: { id: 1 } }).then([{ type: 'WebhookDeleted', data: { id: 1 } }]);
    given([]).when({ type: 'DeleteWebhook', data: { id: 7 } }).thenThrows('MCM_ERR_WEBHOOK_NOT_FOUND');
  });
  it('never reuses an id after a delete', () => {
    const s = fold([hook(1), { type: 'WebhookDeleted', data: { id: 1 } }].map((e, i) => ({ ...e, seq: i + 1, at: '2026-01-01T00:00:00.000Z' })) as never);
    assert.equal(s.nextWebhookId, 2);
    assert.deepEqual(s.webhooks, {});
  });
});
