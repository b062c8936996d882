/**
 * MCM's admin connection to the dynamic-security plugin (reference §6.3): commands are published
 * as `{"commands":[…]}` to `$CONTROL/dynamic-security/v1`; the plugin answers each request with
 * one message on `…/v1/response` whose `responses` are in command order. Requests are tagged with
 * `correlationData` so answers to another admin's requests are ignored.
 *
 * One connection, opened on first use and again after it drops; requests go one at a time (the
 * plugin processes a request's commands in order, and MCM's apply loop is serial anyway).
 */
import { randomBytes } from 'node:crypto';
import type * as Mqtt from 'mqtt';
import { lazyModule } from '../modules/lazy-module.ts';
import type { MqttClient } from 'mqtt';
import type { ProbeTarget } from '../mosquitto/probe.ts';
import type { DynsecCommand } from '../../projections/dynsec-plan.ts';

/** Loaded with the first connection, not with the server (issue 14). */
const mqtt = lazyModule<typeof Mqtt>('mqtt');

export const CONTROL_TOPIC = '$CONTROL/dynamic-security/v1';
export const RESPONSE_TOPIC = `${CONTROL_TOPIC}/response`;
/** Commands per request: the plugin rewrites its whole JSON file after every request, so fewer is faster, but one MQTT packet holds them. */
export const COMMANDS_PER_REQUEST = 500;

export type DynsecResponse = Readonly<{ command: string; data?: unknown; error?: string; correlationData?: string }>;

export type DynsecControl = {
  /** Sends the commands (in requests of COMMANDS_PER_REQUEST) and resolves with one response per command. */
  send(commands: readonly DynsecCommand[]): Promise<DynsecResponse[]>;
  close(): void;
};

export const createDynsecControl = (opts: Readonly<{ target: ProbeTarget; timeoutMs: number }>): DynsecControl => {
  let client: MqttClient | null = null;
  let connecting: Promise<MqttClient> | null = null;
  const waiting = new Map<string, (responses: DynsecResponse[]) => void>();

  const connect = (): Promise<MqttClient> => {
    if (client?.connected) return Promise.resolve(client);
    connecting ??= new Promise<MqttClient>((resolve, reject) => {
      const { target } = opts;
      const c = mqtt().connect({
        host: target.host, port: target.port, protocolVersion: 5, clean: true,
        clientId: `mcm-dynsec-${randomBytes(6).toString('hex')}`,
        username: target.username, password: target.password,
        reconnectPeriod: 0, connectTimeout: opts.timeoutMs,
        ...(target.tls ? { protocol: 'mqtts' as const, ...target.tls } : {}),
      });
      const fail = (e: Error): void => { c.end(true); connecting = null; reject(e); };
      c.once('error', fail);
      c.once('connect', () => {
        c.subscribe(RESPONSE_TOPIC, { qos: 0 }, (err, granted) => {
          if (err || !granted || (granted[0]?.qos ?? 128) >= 128) {
            fail(new Error(`cannot subscribe to ${RESPONSE_TOPIC}: the service account is not the plugin's admin`));
            return;
          }
          c.removeListener('error', fail);
          c.on('error', () => { /* 'close' follows */ });
          c.on('close', () => { if (client === c) client = null; });
          client = c;
          connecting = null;
          resolve(c);
        });
      });
      c.on('message', (_topic, payload) => {
        let body: { responses?: DynsecResponse[] };
        try { body = JSON.parse(payload.toString('utf8')) as typeof body; } catch { return; }
        const first = body.responses?.[0]?.correlationData;
        const id = typeof first === 'string' ? first.split(':')[0] : undefined;
        const done = id === undefined ? undefined : waiting.get(id);
        if (done) done(body.responses ?? []);
      });
    });
    return connecting;
  };

  const request = async (commands: readonly DynsecCommand[]): Promise<DynsecResponse[]> => {
    const c = await connect();
    const id = randomBytes(8).toString('hex');
    const tagged = commands.map((cmd, i) => ({ ...cmd, correlationData: `${id}:${i}` }));
    return new Promise<DynsecResponse[]>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiting.delete(id);
        reject(new Error(`the dynamic-security plugin did not answer within ${opts.timeoutMs} ms (is the plugin loaded?)`));
      }, opts.timeoutMs);
      waiting.set(id, (responses) => {
        clearTimeout(timer);
        waiting.delete(id);
        resolve(responses);
      });
      // QoS 0 both ways: with QoS 1 the broker's PUBACK and then its response meet Nagle's
      // algorithm on its socket (set_tcp_nodelay is off by default) and the delayed ACK of ours,
      // adding ~40 ms per request on loopback. A lost request or response is a timeout, retried.
      c.publish(CONTROL_TOPIC, JSON.stringify({ commands: tagged }), { qos: 0 }, (err) => {
        if (!err) return;
        clearTimeout(timer);
        waiting.delete(id);
        reject(err);
      });
    });
  };

  return {
    async send(commands) {
      const out: DynsecResponse[] = [];
      for (let i = 0; i < commands.length; i += COMMANDS_PER_REQUEST) out.push(...await request(commands.slice(i, i + COMMANDS_PER_REQUEST)));
      return out;
    },
    close() {
      client?.end(true);
      client = null;
    },
  };
};
