/**
 * The fault scenarios' clients: an admin REST client that signs in with the world's first admin
 * (and again after a 401), and one-shot MQTT logins and publishes as a device would make them.
 * A transport error (refused, reset: the server was killed) is thrown, never retried here: the
 * caller decides whether the write it was sending counts as acknowledged (it does not).
 */
import mqtt from 'mqtt';
import type { MqttClient } from 'mqtt';
import type { FaultWorld } from './fault-server.ts';

export type ApiResponse = {
  status: number;
  /** The seq in `ETag: "<seq>"`, or null. */
  seq: number | null;
  body: any;
  headers: Headers;
  ms: number;
};

export type AdminClient = {
  call(method: string, path: string, body?: unknown, opts?: { timeoutMs?: number }): Promise<ApiResponse>;
  login(): Promise<ApiResponse>;
};

const REQUEST_TIMEOUT_MS = 30_000;

const etagSeq = (etag: string | null): number | null => {
  const m = etag === null ? null : /^(?:W\/)?"(\d+)"$/.exec(etag);
  return m ? Number(m[1]) : null;
};

/** `/api/v1` is prepended unless `path` starts with `//` (then the rest is the root path). */
export const rawCall = async (world: FaultWorld, method: string, path: string, token: string | null, body?: unknown, timeoutMs = REQUEST_TIMEOUT_MS): Promise<ApiResponse> => {
  const url = path.startsWith('//') ? `${world.baseUrl}${path.slice(1)}` : `${world.baseUrl}/api/v1${path}`;
  const t0 = performance.now();
  const res = await fetch(url, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  let parsed: any = null;
  if (text) {
    try { parsed = JSON.parse(text); } catch { parsed = text; }
  }
  return { status: res.status, seq: etagSeq(res.headers.get('etag')), body: parsed, headers: res.headers, ms: performance.now() - t0 };
};

export const createAdminClient = (world: FaultWorld): AdminClient => {
  let token: string | null = null;
  const login = async (): Promise<ApiResponse> => {
    const r = await rawCall(world, 'POST', '/auth/login', null, world.admin);
    if (r.status === 200 && typeof r.body?.token === 'string') token = r.body.token as string;
    return r;
  };
  return {
    login,
    async call(method, path, body, opts = {}) {
      if (token === null) {
        const l = await login();
        if (l.status !== 200) return l;
      }
      let r = await rawCall(world, method, path, token, body, opts.timeoutMs);
      if (r.status === 401) {
        const l = await login();
        if (l.status !== 200) return l;
        r = await rawCall(world, method, path, token, body, opts.timeoutMs);
      }
      return r;
    },
  };
};

/** The error's code, for reports: `MCM_ERR_…` from an error body, else the status. */
export const errorCodeOf = (r: ApiResponse): string =>
  typeof r.body?.error?.code === 'string' ? (r.body.error.code as string) : `HTTP ${r.status}`;

let counter = 0;

export type MqttLogin = { ok: true; client: MqttClient } | { ok: false; reason: string };

/** One MQTT v5 connect as `username` (no reconnect); the caller ends a returned client. */
export const mqttLogin = (port: number, username: string, password: string, timeoutMs = 5000): Promise<MqttLogin> =>
  new Promise((resolve) => {
    const client = mqtt.connect({
      host: '127.0.0.1', port, protocolVersion: 5, reconnectPeriod: 0, connectTimeout: timeoutMs,
      clientId: `fault-${process.pid}-${++counter}`, username, password,
    });
    let done = false;
    const finish = (r: MqttLogin): void => {
      if (done) return;
      done = true;
      if (!r.ok) client.end(true);
      resolve(r);
    };
    client.once('connect', () => finish({ ok: true, client }));
    client.on('error', (e: Error & { code?: number | string }) => finish({ ok: false, reason: String(e.code ?? e.message) }));
    client.once('close', () => finish({ ok: false, reason: 'closed' }));
  });

/** Whether `username` can log in now (the client is closed again). */
export const canLogin = async (port: number, username: string, password: string): Promise<boolean> => {
  const r = await mqttLogin(port, username, password);
  if (r.ok) r.client.end(true);
  return r.ok;
};

/** QoS 1 publish: 'accepted', or 'denied' (v5 PUBACK 0x87, reference §2.4). */
export const publishAs = (client: MqttClient, topic: string): Promise<'accepted' | 'denied'> =>
  new Promise((resolve, reject) => {
    client.publish(topic, 'x', { qos: 1 }, (err) => {
      if (!err) resolve('accepted');
      else if ((err as Error & { code?: number }).code === 135) resolve('denied');
      else reject(err);
    });
  });
