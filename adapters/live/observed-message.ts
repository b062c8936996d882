/**
 * One MQTT message the observer received, handed to each processor in turn (topic tree, JSON
 * schemas, Sparkplug B). Processors must be cheap and never throw: a bad payload is counted and
 * dropped, never a crash (DESIGN §7).
 */
export type ObservedMessage = Readonly<{
  topic: string;
  payload: Buffer;
  qos: 0 | 1 | 2;
  retain: boolean;
  /** ms since the epoch, from the Clock at receipt. */
  receivedAt: number;
}>;

export type MessageProcessor = Readonly<{
  name: string;
  process(message: ObservedMessage): void;
}>;
