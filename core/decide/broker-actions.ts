/**
 * Operator actions on the live broker (DESIGN §7: publish, delete retained) are appended as
 * events so the audit view covers them. The payload itself never enters the log: only its size
 * and SHA-256 (computed by the adapter), since a payload may carry anything.
 */
import type { CommandOf } from '../commands.ts';
import { DomainError, ERROR_CODES } from '../errors.ts';
import type { DomainEvent } from '../events.ts';
import { assertTopicName } from '../topic-filter.ts';
import { show } from './guards.ts';

/** MQTT's maximum packet size is 256 MiB (MQTT-2.2.3); the adapter enforces its own smaller cap. */
const MAX_PAYLOAD_BYTES = 268_435_455;
const SHA256_HEX = /^[0-9a-f]{64}$/;

export const publishMessage = (c: CommandOf<'PublishMessage'>): DomainEvent[] => {
  const topic = assertTopicName(c.data.topic);
  // Publishing to $-topics is refused by the broker for clients ($SYS, MQTT-4.7.2-1 reserved).
  if (topic.startsWith('$')) {
    throw new DomainError(ERROR_CODES.PUBLISH_INVALID, `topics starting with '$' are reserved for the broker (MQTT-4.7.2): ${show(topic)}`, [{ field: 'topic', value: topic }]);
  }
  const { qos, retain, bytes, payloadSha256 } = c.data;
  if (qos !== 0 && qos !== 1 && qos !== 2) {
    throw new DomainError(ERROR_CODES.PUBLISH_INVALID, `qos must be 0, 1 or 2 (got ${show(qos)})`, [{ field: 'qos', value: qos }]);
  }
  if (typeof retain !== 'boolean') {
    throw new DomainError(ERROR_CODES.PUBLISH_INVALID, `retain must be a boolean (got ${show(retain)})`, [{ field: 'retain', value: retain }]);
  }
  if (!Number.isInteger(bytes) || bytes < 0 || bytes > MAX_PAYLOAD_BYTES) {
    throw new DomainError(ERROR_CODES.PUBLISH_INVALID, `payload size must be 0..${MAX_PAYLOAD_BYTES} bytes (got ${show(bytes)})`, [{ field: 'bytes', value: bytes }]);
  }
  if (typeof payloadSha256 !== 'string' || !SHA256_HEX.test(payloadSha256)) {
    throw new DomainError(ERROR_CODES.PUBLISH_INVALID, 'payloadSha256 must be 64 lower-case hex digits', [{ field: 'payloadSha256' }]);
  }
  return [{ type: 'BrokerMessagePublished', data: { topic, qos, retain, bytes, payloadSha256 } }];
};

export const clearRetained = (c: CommandOf<'ClearRetained'>): DomainEvent[] => {
  const topic = assertTopicName(c.data.topic);
  if (topic.startsWith('$')) {
    throw new DomainError(ERROR_CODES.PUBLISH_INVALID, `retained messages on '$' topics belong to the broker: ${show(topic)}`, [{ field: 'topic', value: topic }]);
  }
  return [{ type: 'RetainedMessageCleared', data: { topic } }];
};
