/**
 * Small mqtt.js helpers for broker tests: a real client as a given user, and the outcomes the
 * tests assert on (connected, refused with a reason code, message seen or not). MQTT v5, so a
 * denied publish is visible as PUBACK 0x87 (reference §2.4).
 */
import mqtt from 'mqtt';
import type { IClientOptions, MqttClient } from 'mqtt';
import type { TestContext } from 'node:test';

export type LoginResult = { ok: true; client: MqttClient } | { ok: false; code: number | string };

let counter = 0;

/** Connects once (no reconnect); resolves with the client or the refusal. Clients end in t.after. */
export const login = (t: TestContext, port: number, username?: string, password?: string, extra: IClientOptions = {}): Promise<LoginResult> =>
  new Promise((resolve) => {
    const client = mqtt.connect({
      host: '127.0.0.1', port, protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 5000,
      clientId: `test-${process.pid}-${++counter}`,
      ...(username === undefined ? {} : { username }),
      ...(password === undefined ? {} : { password }),
      ...extra,
    });
    t.after(() => { client.end(true); });
    let done = false;
    const finish = (r: LoginResult): void => { if (!done) { done = true; resolve(r); } };
    client.once('connect', () => finish({ ok: true, client }));
    client.on('error', (e: Error & { code?: number | string }) => { client.end(true); finish({ ok: false, code: e.code ?? e.message }); });
    client.once('close', () => finish({ ok: false, code: 'closed' }));
  });

export const connectAs = async (t: TestContext, port: number, username: string, password: string, extra: IClientOptions = {}): Promise<MqttClient> => {
  const r = await login(t, port, username, password, extra);
  if (!r.ok) throw new Error(`login as ${username} refused: ${String(r.code)}`);
  return r.client;
};

/** Publishes QoS 1; 'accepted' or 'denied' (v5 PUBACK 0x87). */
export const publish = (client: MqttClient, topic: string, payload: string): Promise<'accepted' | 'denied'> =>
  new Promise((resolve, reject) => {
    client.publish(topic, payload, { qos: 1 }, (err) => {
      if (!err) resolve('accepted');
      else if ((err as Error & { code?: number }).code === 135) resolve('denied');
      else reject(err);
    });
  });

/** Resolves true when a message on `topic` with `payload` arrives within `ms`, else false. */
export const receives = (client: MqttClient, topic: string, payload: string, ms = 1500): Promise<boolean> =>
  new Promise((resolve) => {
    const onMessage = (t: string, p: Buffer): void => {
      if (t === topic && p.toString() === payload) { cleanup(); resolve(true); }
    };
    const timer = setTimeout(() => { cleanup(); resolve(false); }, ms);
    const cleanup = (): void => { clearTimeout(timer); client.off('message', onMessage); };
    client.on('message', onMessage);
  });

/** Resolves once the client's connection closes (the broker dropped it), or false after `ms`. */
export const closes = (client: MqttClient, ms = 3000): Promise<boolean> =>
  new Promise((resolve) => {
    if (!client.connected) { resolve(true); return; }
    const timer = setTimeout(() => resolve(false), ms);
    client.once('close', () => { clearTimeout(timer); resolve(true); });
  });

/**
 * Sends `payload` to `topic` from `pub` and reports whether `sub` (already subscribed) got it:
 * the end-to-end "is this permission enforced right now" question.
 */
export const delivered = async (pub: MqttClient, sub: MqttClient, topic: string, ms = 1000): Promise<boolean> => {
  const payload = `p-${Date.now()}-${Math.random()}`;
  const seen = receives(sub, topic, payload, ms);
  await publish(pub, topic, payload).catch(() => 'denied');
  return seen;
};
