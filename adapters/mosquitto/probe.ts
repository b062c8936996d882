/**
 * The enforcement probe (DESIGN §6, verified on 2.0.11). After a reload, on ONE connection as the
 * service account, subscribed to `$mcm/#`: publish QoS 1 to `$mcm/probe/<generation>`, then to
 * `$mcm/canary`, back to back. Only the new ACL lets the account write the probe topic, and
 * nothing lets it write the canary (`#` never matches `$` topics, reference §2.3), so:
 * - probe back, canary not            → the new files are in force and enforced;
 * - probe denied (v5 PUBACK 0x87)     → the reload has not happened yet: retry for a while;
 * - canary accepted or delivered      → ACL enforcement is OFF (fail-open, reference §3.4).
 * The broker handles one connection's publishes in order, so a probe accepted under the new ACL
 * means the canary sent after it met the new ACL as well: one round proves both.
 * With `passwordMarker`, a login as the password file's marker user must be accepted (the broker
 * runs the password file of this generation, not only its ACL: the pair is proven).
 * Then logins that must be refused: the service account with a wrong password, an unknown user
 * with a random password (a missing password file with anonymous on accepts any credentials), and
 * — when anonymous access is off — an anonymous connect.
 * MQTT v5 throughout, so a denied publish is visible (PUBACK 0x87, reference §2.4).
 */
import { randomBytes } from 'node:crypto';
import type * as Mqtt from 'mqtt';
import { lazyModule } from '../modules/lazy-module.ts';
import type { IClientOptions, MqttClient } from 'mqtt';
import { rawLogin, UNREACHABLE, type LoginOutcome, type RawCredentials } from './raw-login.ts';

/** Loaded with the first connection, not with the server (issue 14). */
const mqtt = lazyModule<typeof Mqtt>('mqtt');

export const PROBE_CLIENT_PREFIX = 'mcm-probe-';
export const CANARY_TOPIC = '$mcm/canary';
export const probeTopic = (generation: number): string => `$mcm/probe/${generation}`;

export type ProbeTarget = Readonly<{
  host: string;
  port: number;
  username: string;
  password: string;
  /** TLS when the broker listener needs it (mqtt.tls in the config). */
  tls?: Readonly<{ ca?: Buffer; cert?: Buffer; key?: Buffer; rejectUnauthorized?: boolean }> | null;
}>;

export type ProbeOptions = Readonly<{
  /** The generation in the ACL file the broker should have loaded. */
  generation: number;
  /** From the desired state: when false an anonymous connect must be refused. */
  allowAnonymous: boolean;
  timeoutMs: number;
  /** Pause between positive-probe attempts while the reload is pending. */
  retryMs?: number;
  /** A connection opened before the reload (openProbeSession); closed by the probe. */
  session?: ProbeSession | null;
  /**
   * The marker user of the password file the broker should have loaded (apply/broker-files.ts):
   * a login as it with the service account's password must be accepted, proving the password
   * file of this generation is in force alongside its ACL. Retried until the deadline.
   */
  passwordMarker?: string | null;
}>;

export type ProbeFailure = Readonly<{
  ok: false;
  reason: string;
  /** Enforcement is off: the canary got through, or a login that must fail succeeded. */
  failOpen: boolean;
  /** Nothing answered on the MQTT port. */
  unreachable: boolean;
}>;
export type ProbeResult = Readonly<{ ok: true; ms: number }> | ProbeFailure;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const hex = (n: number): string => randomBytes(n).toString('hex');

const clientOptions = (target: ProbeTarget, extra: IClientOptions, timeoutMs: number): IClientOptions => ({
  protocol: target.tls ? 'mqtts' : 'mqtt',
  host: target.host,
  port: target.port,
  protocolVersion: 5,
  clean: true,
  reconnectPeriod: 0,
  connectTimeout: Math.max(100, timeoutMs),
  keepalive: 30,
  ...(target.tls ? { ca: target.tls.ca, cert: target.tls.cert, key: target.tls.key, rejectUnauthorized: target.tls.rejectUnauthorized ?? true } : {}),
  ...extra,
});

/** One connect attempt; resolves with what the broker said. Always ends the client. */
const tryLogin = (target: ProbeTarget, extra: IClientOptions, timeoutMs: number): Promise<{ outcome: LoginOutcome; client: MqttClient | null }> =>
  new Promise((resolve) => {
    const client = mqtt().connect(clientOptions(target, extra, timeoutMs));
    let done = false;
    const finish = (outcome: LoginOutcome, keep: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (!keep) client.end(true);
      resolve({ outcome, client: keep ? client : null });
    };
    const timer = setTimeout(() => finish({ kind: 'timeout' }, false), timeoutMs);
    client.once('connect', () => finish({ kind: 'accepted' }, true));
    client.on('error', (e: Error & { code?: number | string }) => {
      if (typeof e.code === 'number') finish({ kind: 'refused', code: e.code }, false);
      else if (typeof e.code === 'string' && UNREACHABLE.has(e.code)) finish({ kind: 'unreachable', message: `${e.code} ${target.host}:${target.port}` }, false);
      else finish({ kind: 'unreachable', message: e.message }, false);
    });
    // A close before CONNACK: the broker dropped us without a reason code (v3-style refusal or shutdown).
    client.once('close', () => finish({ kind: 'unreachable', message: `connection to ${target.host}:${target.port} closed before CONNACK` }, false));
  });

const isFailure = (r: MqttClient | ProbeFailure): r is ProbeFailure => (r as ProbeFailure).ok === false;

const fail = (reason: string, failOpen = false, unreachable = false): ProbeFailure => ({ ok: false, reason, failOpen, unreachable });

type PublishOutcome = 'accepted' | 'denied' | 'closed' | 'timeout' | 'error';

/** QoS 1 publish; never hangs: a dropped connection or the deadline ends it. */
const publishOutcome = (client: MqttClient, topic: string, payload: string, deadline: number): Promise<PublishOutcome> =>
  new Promise((resolve) => {
    if (!client.connected) { resolve('closed'); return; }
    let done = false;
    const finish = (o: PublishOutcome): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      client.off('close', onClose);
      resolve(o);
    };
    const onClose = (): void => finish('closed');
    const timer = setTimeout(() => finish('timeout'), Math.max(0, deadline - Date.now()));
    client.once('close', onClose);
    client.publish(topic, payload, { qos: 1 }, (err) => {
      if (!err) finish('accepted');
      else finish((err as Error & { code?: number }).code === 135 ? 'denied' : 'error');
    });
  });

/**
 * A probe connection opened ahead of time (e.g. while the files are written), so the probe after
 * the reload does not pay for CONNECT and SUBSCRIBE. The service account's connection survives a
 * reload: its password is re-checked and unchanged, and ACLs apply per message (reference §3.3).
 */
export type ProbeSession = Readonly<{ ready: Promise<MqttClient | ProbeFailure>; close(): void }>;

export const openProbeSession = (target: ProbeTarget, timeoutMs: number): ProbeSession => {
  let client: MqttClient | null = null;
  let closed = false;
  const ready = (async (): Promise<MqttClient | ProbeFailure> => {
    const { outcome, client: c } = await tryLogin(target, { clientId: `${PROBE_CLIENT_PREFIX}${hex(6)}`, username: target.username, password: target.password }, timeoutMs);
    if (!c) {
      if (outcome.kind === 'refused') return fail(`the broker refused MCM's service account "${target.username}" (reason code ${outcome.code})`);
      if (outcome.kind === 'unreachable') return fail(`broker unreachable: ${outcome.message}`, false, true);
      return fail(`no CONNACK from ${target.host}:${target.port} within the probe timeout`, false, true);
    }
    client = c;
    if (closed) { c.end(true); return fail('probe session closed'); }
    const sub = await c.subscribeAsync('$mcm/#', { qos: 1 }).catch((e: Error) => e);
    if (sub instanceof Error) { c.end(true); return fail(`probe subscribe failed: ${sub.message}`); }
    return c;
  })();
  return { ready, close: () => { closed = true; client?.end(true); } };
};

const CLOSED = 'the broker closed the probe connection (the reload dropped MCM\'s service account, or the broker went down)';

/**
 * Positive + negative probe on one connection, one pipelined round: the probe, then the canary,
 * sent back to back. The broker handles one connection's publishes in order, so a probe accepted
 * under the new ACL means the canary after it met the new ACL too (a reload can't land between
 * them in a way that hides an old verdict, which the former canary-first order needed a second
 * round to rule out). `onConfirmed` fires once the round proved the new files are loaded.
 */
const probeAcl = async (target: ProbeTarget, opts: ProbeOptions, deadline: number, onConfirmed: () => void): Promise<ProbeResult> => {
  const started = Date.now();
  const open = (): ProbeSession => openProbeSession(target, Math.max(50, deadline - Date.now()));
  let session = opts.session ?? open();
  let ready = await session.ready;
  // A session opened before a broker restart may be dead: fall back to a fresh connection.
  if (opts.session && (isFailure(ready) || !ready.connected)) {
    session.close();
    session = open();
    ready = await session.ready;
  }
  if (isFailure(ready)) {
    session.close();
    return ready;
  }
  const client = ready;
  const topic = probeTopic(opts.generation);
  let canarySeen = false;
  const probeWaiters = new Map<string, () => void>();
  client.on('message', (t, payload) => {
    if (t === CANARY_TOPIC) canarySeen = true;
    else if (t === topic) probeWaiters.get(payload.toString())?.();
  });
  try {
    for (;;) {
      if (Date.now() >= deadline) {
        return fail(`positive probe ${topic} was not delivered within ${opts.timeoutMs} ms: the broker did not load generation ${opts.generation}`);
      }
      const nonce = hex(8);
      const arrived = new Promise<boolean>((resolve) => {
        const t = setTimeout(() => { probeWaiters.delete(nonce); resolve(false); }, Math.max(0, deadline - Date.now()));
        probeWaiters.set(nonce, () => { clearTimeout(t); probeWaiters.delete(nonce); resolve(true); });
      });
      // Both written before either is answered: one round trip for the pair.
      const [probe, canary] = await Promise.all([
        publishOutcome(client, topic, nonce, deadline),
        publishOutcome(client, CANARY_TOPIC, nonce, deadline),
      ]);
      if (canary === 'accepted' || canarySeen) {
        probeWaiters.get(nonce)?.();
        return fail(`fail-open: the broker accepted a publish to ${CANARY_TOPIC}, which the ACL denies: ACL enforcement is off`, true);
      }
      // Out of time without the new ACL: reported as "not loaded" at the top of the loop.
      if (probe !== 'accepted' && probe !== 'closed' && Date.now() >= deadline) continue;
      if (canary === 'closed' || canary === 'timeout') {
        probeWaiters.get(nonce)?.();
        return fail(canary === 'closed' ? CLOSED : `no PUBACK for ${CANARY_TOPIC} within ${opts.timeoutMs} ms`, false, canary === 'closed');
      }
      if (probe === 'closed') {
        probeWaiters.get(nonce)?.();
        return fail(CLOSED, false, true);
      }
      if (probe !== 'accepted') {
        // Not loaded yet (the old ACL denied the probe): try again shortly.
        probeWaiters.get(nonce)?.();
        await arrived;
        await sleep(opts.retryMs ?? 2);
        continue;
      }
      if (!(await arrived)) return fail(`positive probe ${topic} was accepted but never delivered back within ${opts.timeoutMs} ms`);
      // The canary was sent after the probe: had it been delivered, it would have come by now
      // only if the broker reordered; its PUBACK (denied) already answered for it.
      if (canarySeen) return fail(`fail-open: ${CANARY_TOPIC} was delivered: ACL enforcement is off`, true);
      onConfirmed();
      return { ok: true, ms: Date.now() - started };
    }
  } finally {
    session.close();
  }
};

/** Logs in as the password file's marker until the broker accepts it (it runs that file) or the deadline. */
const markerCheck = async (target: ProbeTarget, marker: string, deadline: number, retryMs: number): Promise<ProbeFailure | null> => {
  let last = '';
  while (Date.now() < deadline) {
    const outcome = await rawLogin(target, { clientId: `${PROBE_CLIENT_PREFIX}${hex(6)}`, username: marker, password: target.password }, Math.max(50, deadline - Date.now()));
    if (outcome.kind === 'accepted') return null;
    if (outcome.kind === 'unreachable') return fail(`broker unreachable while checking the password file marker: ${outcome.message}`, false, true);
    last = outcome.kind === 'refused' ? ` (reason code ${outcome.code})` : ' (no answer)';
    await sleep(Math.max(retryMs, 10));
  }
  return fail(`the broker does not run the password file written with this generation: its marker user ${marker} was refused${last} ` +
    'until the probe timeout (an old or mixed password file and ACL file pair is loaded)');
};

const refusedCheck = async (target: ProbeTarget, what: string, creds: RawCredentials, deadline: number): Promise<ProbeFailure | null> => {
  const outcome = await rawLogin(target, creds, Math.max(50, deadline - Date.now()));
  if (outcome.kind === 'accepted') return fail(`fail-open: the broker accepted ${what}`, true);
  if (outcome.kind === 'refused') return null;
  if (outcome.kind === 'unreachable') return fail(`broker unreachable while checking ${what}: ${outcome.message}`, false, true);
  return fail(`no answer from the broker while checking ${what}`, false, true);
};

/**
 * Runs the whole probe; resolves (never rejects) with the first failure or ok. The login checks
 * start once the positive round proved the new files are loaded (a login the old files refused
 * proves nothing about the new ones); they run in parallel.
 */
export const probeBroker = async (target: ProbeTarget, opts: ProbeOptions): Promise<ProbeResult> => {
  const started = Date.now();
  const deadline = started + opts.timeoutMs;
  let checks: Promise<ProbeFailure | null>[] = [];
  const startChecks = (): void => {
    checks = [
      refusedCheck(target, `MCM's service account with a wrong password`, {
        clientId: `${PROBE_CLIENT_PREFIX}${hex(6)}`, username: target.username, password: `wrong-${hex(12)}`,
      }, deadline),
      refusedCheck(target, 'an unknown username with a random password', {
        clientId: `${PROBE_CLIENT_PREFIX}${hex(6)}`, username: `${PROBE_CLIENT_PREFIX}nobody-${hex(8)}`, password: hex(12),
      }, deadline),
    ];
    if (opts.passwordMarker) checks.push(markerCheck(target, opts.passwordMarker, deadline, opts.retryMs ?? 2));
    if (!opts.allowAnonymous) {
      checks.push(refusedCheck(target, 'an anonymous client while anonymous access is off', { clientId: `${PROBE_CLIENT_PREFIX}${hex(6)}` }, deadline));
    }
  };
  const acl = await probeAcl(target, opts, deadline, startChecks).catch((e: Error) => fail(`probe error: ${e.message}`));
  const failures = (await Promise.all(checks)).filter((f): f is ProbeFailure => f !== null);
  if (!acl.ok) return acl;
  const first = failures.find((f) => f.failOpen) ?? failures[0];
  return first ?? { ok: true, ms: Date.now() - started };
};
