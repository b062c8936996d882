/**
 * Asks a real broker what it decides: can a client log in, may it publish to a topic, is a message
 * on a topic delivered to it. Used by the differential tests, which compare these answers with
 * explain's (broker-differential) or with another broker's on other files (import-differential).
 *
 * Write checks: MQTT v5 publish QoS 1; PUBACK 0x87 (135) = denied, success = allowed [ref §2.4].
 * Read checks: subscribe (never refused by acl_file [ref §2.4]); a publisher that may write the
 * topic sends a unique payload QoS 1; delivered within `waitMs` = allowed. `$SYS/broker/version`
 * is read from its retained message (nobody may publish under `$SYS`).
 */
import assert from 'node:assert/strict';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';

export const v5Options = (clientId: string): IClientOptions => ({
  clientId, protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 5000, clean: true,
});

/** CONNACK result: null when accepted, else the reason code the broker refused with. */
export const tryLogin = async (url: string, opts: IClientOptions): Promise<number | null> => {
  try {
    const client = await mqtt.connectAsync(url, opts);
    await client.endAsync(true);
    return null;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    assert.equal(typeof code, 'number', `expected a CONNACK refusal, got ${String(err)}`);
    return code as number;
  }
};

export const writeAllowed = async (client: MqttClient, topic: string, payload = 'w'): Promise<boolean> => {
  try {
    await client.publishAsync(topic, payload, { qos: 1 });
    return true;
  } catch (err) {
    if ((err as { code?: unknown }).code === 135) return false;
    throw err;
  }
};

let counter = 0;

export const readAllowed = async (client: MqttClient, publisher: MqttClient, topic: string, waitMs = 700): Promise<boolean> => {
  const retained = topic === '$SYS/broker/version';
  const payload = `case-${process.pid}-${++counter}`;
  const delivered = new Promise<boolean>((resolve) => {
    const onMessage = (got: string, body: Buffer): void => {
      if (got === topic && (retained || body.toString() === payload)) finish(true);
    };
    const timer = setTimeout(() => finish(false), waitMs);
    const finish = (v: boolean): void => { clearTimeout(timer); client.off('message', onMessage); resolve(v); };
    client.on('message', onMessage);
  });
  const granted = await client.subscribeAsync(topic, { qos: 1 });
  assert.ok(granted.every((g) => g.qos === 1), `SUBACK ${JSON.stringify(granted)}`);
  if (!retained) assert.equal(await writeAllowed(publisher, topic, payload), true, `the publisher may publish to ${topic}`);
  const result = await delivered;
  await client.unsubscribeAsync(topic);
  return result;
};

/** Runs `tasks` with at most `limit` in flight. */
export const pool = async (limit: number, tasks: (() => Promise<void>)[]): Promise<void> => {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < tasks.length) {
      const task = tasks[next++];
      if (task) await task();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
};
