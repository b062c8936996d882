/**
 * The app the API fuzzer (fuzz-api.ts) talks to: the real Koa app on a temp-dir SQLite file,
 * listening on 127.0.0.1:0, with every optional dependency present and WORKING, so that no route
 * answers a 5xx for want of one:
 *   - observer: a stand-in that is always connected and acknowledges every publish (the real
 *     topic tree, clients table, JSON schema validator and Sparkplug tracker process what is
 *     published, so POST /broker/publish feeds GET /topics and GET /sparkplug/nodes);
 *   - apply: a stand-in apply loop (always "applied"), readiness: ready;
 *   - metrics, schema stats, Sparkplug: the real ones.
 * Requests go out through node:http with the path sent byte for byte (no URL normalisation, so
 * `..`, `%2F` and broken escapes reach the server as generated).
 *
 * The "keeper" holds the world steady between cases without touching what is measured: after an
 * accepted change it puts back the admin users the fuzzer signs in with (a fuzzed request may
 * legitimately delete, demote, disable or re-password them), keeps hash_iterations small (a fuzzed
 * PUT /settings may legitimately ask for 10 million PBKDF2 rounds) and re-creates deleted
 * fixtures, all through handleCommand with the actor `system:fuzz-keeper`.
 */
import { request as httpRequest, Agent, createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import type Koa from 'koa';
import { pino } from 'pino';
import type { Command } from '../../core/commands.ts';
import { handleCommand } from '../../core/handle-command.ts';
import type { Clock } from '../../core/ports.ts';
import { ADMIN_ROLES, type AdminRole } from '../../core/state.ts';
import type { Config } from '../../adapters/config/config.ts';
import { defaultConfig } from '../../adapters/config/defaults.ts';
import { createHttpApp } from '../../adapters/http/app.ts';
import { createAdminHasher } from '../../adapters/http/auth/admin-hasher.ts';
import { createAuthServices, type AuthServices } from '../../adapters/http/auth/services.ts';
import type { ApplyStatus, HttpDeps, HttpEventStore } from '../../adapters/http/deps.ts';
import { createLiveBus } from '../../adapters/live/live-bus.ts';
import type { MessageProcessor, ObservedMessage } from '../../adapters/live/observed-message.ts';
import { createMetrics } from '../../adapters/metrics/registry.ts';
import { createMosquittoHasher } from '../../adapters/mosquitto/password-hash.ts';
import { createObserverApi, type ObserverApi } from '../../adapters/mqtt/observer-api.ts';
import { createClientsTable } from '../../adapters/observer/clients-table.ts';
import { createSchemaValidator } from '../../adapters/observer/schema-validator.ts';
import { createSparkplugTracker } from '../../adapters/observer/sparkplug-tracker.ts';
import { createTopicTree } from '../../adapters/observer/topic-tree.ts';
import { createSecretStore } from '../../adapters/secrets/secret-store.ts';
import { createSqliteEventStore } from '../../adapters/sqlite/event-store.ts';
import { openDatabase } from '../../adapters/sqlite/open-database.ts';
import { createSecurityEventLog } from '../../adapters/sqlite/security-events.ts';
import { generateWebhookSecret, sealWebhookSecret } from '../../adapters/webhooks/webhook-secret.ts';
import type { Cleanups } from './cleanups.ts';

/** The password of every admin user the fuzzer signs in with. */
export const FUZZ_PASSWORD = 'fuzz-password-0123';

export const ROLE_USERS: Readonly<Record<AdminRole, string>> = {
  viewer: 'fuzz-viewer',
  auditor: 'fuzz-auditor',
  operator: 'fuzz-operator',
  admin: 'fuzz-admin',
};

/** Names the generators use for path parameters and bodies, so that many requests hit something that exists. */
export const FIXTURES = {
  mqttUsers: ['alice', 'bob'],
  roles: ['sensors', 'ops'],
  /** An extra admin (not one the fuzzer signs in with) for PUT/DELETE /admin-users/{username}. */
  victimAdmin: 'victim-admin',
  topics: ['plant/line-a/temp', 'plant/line-b/pressure', 'spBv1.0/g1/NBIRTH/edge-1', 'a'],
} as const;

const KEEPER = { actor: { kind: 'system', id: 'fuzz-keeper' } } as const;
/** Past this, a fuzzed PUT /settings made every MQTT password hash slow: the keeper lowers it. */
const MAX_KEPT_ITERATIONS = 1000;

export type RawRequest = {
  method: string;
  /** Sent as is: only bytes 0x21-0xff (node:http refuses others). */
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
};

export type RawResponse = { status: number; headers: IncomingHttpHeaders; text: string; ms: number };

export type ManualClock = Clock & { ms(): number; advance(seconds: number): void };

const manualClock = (): ManualClock => {
  let ms = Date.now();
  return { now: () => new Date(ms).toISOString(), ms: () => ms, advance: (s) => { ms += Math.round(s * 1000); } };
};

export type FuzzApp = {
  app: Koa;
  server: Server;
  deps: HttpDeps;
  store: HttpEventStore;
  db: DatabaseSync;
  clock: ManualClock;
  config: Config;
  auth: AuthServices;
  /** Current session token per role (kept valid by the keeper). */
  token(role: AdminRole): string;
  send(req: RawRequest, timeoutMs?: number): Promise<RawResponse>;
  /** Restores what the fuzzer depends on after accepted changes; returns the number of repairs. */
  keep(): Promise<number>;
  /** Messages a processor threw on (the observer counts these too; none are expected). */
  processorFailures(): number;
  /** Hands the processors the n-th message of a fixed round of device traffic, as a live broker would. */
  observeTraffic(n: number): void;
};

/**
 * What devices publish while the API is fuzzed: whatever schemas, rules and Sparkplug sessions
 * fuzzed requests created meet live payloads of every kind (JSON that passes or fails, text,
 * binary, Sparkplug garbage), as they would on a real broker.
 */
const TRAFFIC: readonly (readonly [string, Buffer])[] = [
  ['plant/line-a/temp', Buffer.from('{"v": 21.5}')], ['plant/line-b/pressure', Buffer.from('21.5')], ['a', Buffer.from('{"v": "x"}')],
  ['a/b', Buffer.from('[]')], ['sensors/1', Buffer.from('not json {')], ['x/y/z', Buffer.from([0x00, 0xff, 0xfe])],
  ['spBv1.0/g1/NDATA/edge-1', Buffer.from([0x08, 0x01, 0x12])], ['spBv1.0/STATE/host', Buffer.from('{"online": 1}')], ['STATE/h', Buffer.from('ONLINE')],
  ['%u/%c', Buffer.from('null')], ['\u{1F600}/x', Buffer.from('{"v": 1}')], ['a//b', Buffer.from('{}')],
];

export const startFuzzApp = async (cleanups: Cleanups): Promise<FuzzApp> => {
  const dataDir = cleanups.tempDir('mcm-fuzz-api-');
  const config = defaultConfig({ mosquittoBinary: null });
  config.data_dir = dataDir;
  config.log_level = 'silent';
  config.http.port = 0;
  config.auth.bcrypt_cost = 4;
  // The keeper moves the clock past lockouts; tokens must outlive that.
  config.auth.jwt_ttl_s = 365 * 24 * 3600;

  const clock = manualClock();
  const db = openDatabase(join(dataDir, 'mcm.db'));
  cleanups.add(() => db.close());
  const store = createSqliteEventStore({ db });
  const logger = pino({ level: 'silent' });
  const bus = createLiveBus();
  const metrics = createMetrics({ bus, sources: { headSeq: () => store.headSeq() } });
  cleanups.add(() => metrics.stop());

  const tree = createTopicTree({ maxTopics: 2000, historyDepth: 5, now: () => clock.ms() });
  const clients = createClientsTable({ bus, clock });
  const schemaValidator = createSchemaValidator({ store, bus, clock, logger, metrics });
  cleanups.add(() => schemaValidator.close());
  const sparkplug = createSparkplugTracker({ bus, clock, logger });
  const processors: MessageProcessor[] = [metrics.processor, tree, schemaValidator, sparkplug];
  let processorFailures = 0;
  let observed = 0;
  const observe = (m: ObservedMessage): void => {
    observed++;
    for (const p of processors) {
      try { p.process(m); } catch { processorFailures++; }
    }
  };
  const since = clock.now();
  const observer: ObserverApi['observer'] = {
    statsHistory: () => [],
    status: () => ({
      state: 'up', connected: true, since, reason: null, client_id: 'mcm-observer-fuzz', broker: 'mqtt://stand-in',
      reconnects: 0, messages: observed, bytes: 0, processor_failures: {},
    }),
    connected: () => true,
    stats: () => ({ version: 'mosquitto version 2.0.18 (stand-in)', uptime_s: 60, values: { 'clients/connected': 1 }, figures: { publish_received: null, publish_sent: null, clients_connected: 0 }, updated_at: since }),
    publish: async (topic, payload, options) => {
      observe({ topic, payload, qos: options.qos, retain: options.retain, receivedAt: clock.ms() });
    },
  };
  for (const topic of FIXTURES.topics) observe({ topic, payload: Buffer.from('{"v": 1}'), qos: 0, retain: false, receivedAt: clock.ms() });

  const adminHasher = createAdminHasher({ cost: config.auth.bcrypt_cost });
  const applyStatus = (): ApplyStatus => ({
    desired_seq: store.headSeq(), applied_seq: store.headSeq(), state: 'applied',
    last: { seq: store.headSeq(), result: 'applied', latency_ms: 1, at: clock.now() },
    broker: { mode: 'external', up: true },
  });
  const base = {
    store, clock, config, logger, db, adminHasher,
    mqttHasher: createMosquittoHasher(),
    securityLog: createSecurityEventLog({ db, clock }),
    secrets: createSecretStore(dataDir),
    serviceAccount: config.mqtt.service_account.username,
    apply: { status: applyStatus, retry: async () => applyStatus() },
    readiness: () => ({ ready: true, reasons: [] }),
    metrics,
    schemaStats: schemaValidator,
    sparkplug,
    observer: createObserverApi({ observer, clients, topics: tree, logSource: 'broker-log' }),
  } satisfies Omit<HttpDeps, 'auth'>;
  const auth = createAuthServices(base);
  const deps: HttpDeps = { ...base, auth };

  const run = (command: Command): void => { handleCommand(deps, command, KEEPER); };
  const adminHash = await adminHasher.hash(FUZZ_PASSWORD);
  const mqttHash = await deps.mqttHasher.hash('mqtt-password-0123', 101);

  const app = createHttpApp(deps);
  const server = createServer(app.callback());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  cleanups.add(async () => {
    agent.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const { port } = server.address() as AddressInfo;

  const send = (req: RawRequest, timeoutMs = 15_000): Promise<RawResponse> =>
    new Promise((resolve, reject) => {
      const started = performance.now();
      const headers: Record<string, string> = { ...req.headers };
      if (req.body !== undefined) headers['content-length'] = String(req.body.length);
      const r = httpRequest({ host: '127.0.0.1', port, method: req.method, path: req.path, headers, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8'), ms: performance.now() - started }));
        res.on('error', reject);
      });
      r.setTimeout(timeoutMs, () => r.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      r.on('error', reject);
      r.end(req.body);
    });

  // ---- sessions and the keeper

  const tokens = new Map<AdminRole, string>();
  const signIn = async (role: AdminRole): Promise<void> => {
    for (let attempt = 0; attempt < 3; attempt++) {
      const res = await send({
        method: 'POST', path: '/api/v1/auth/login', headers: { 'content-type': 'application/json' },
        body: Buffer.from(JSON.stringify({ username: ROLE_USERS[role], password: FUZZ_PASSWORD })),
      });
      if (res.status === 200) {
        tokens.set(role, (JSON.parse(res.text) as { token: string }).token);
        return;
      }
      if (res.status !== 429) throw new Error(`keeper: sign-in as ${ROLE_USERS[role]} failed: ${res.status} ${res.text.slice(0, 300)}`);
      // Fuzzed sign-ins from this address locked it out: wait (on the manual clock) until it lifts.
      clock.advance(Number(res.headers['retry-after'] ?? 900) + 1);
    }
    throw new Error(`keeper: sign-in as ${ROLE_USERS[role]} stayed locked out`);
  };

  /** A fuzzed POST /auth/logout with the role's token ended that session (issue 17: its jti is revoked). */
  const signedOut = (role: AdminRole): boolean => {
    const token = tokens.get(role);
    const checked = token === undefined ? null : auth.tokens.check(token);
    const user = store.state().adminUsers[ROLE_USERS[role]];
    return checked !== null && checked.ok && user?.endedSessions !== undefined && Object.hasOwn(user.endedSessions, checked.claims.jti);
  };

  /** Admin users: present, enabled, with their role, password and no MFA; each one's tokenVersion when signed in. */
  const signedInVersion = new Map<string, number>();
  const keepAdmins = (): AdminRole[] => {
    const resign: AdminRole[] = [];
    const want: [string, AdminRole][] = [...ADMIN_ROLES.map((r) => [ROLE_USERS[r], r] as [string, AdminRole]), [FIXTURES.victimAdmin, 'operator']];
    for (const [username, role] of want) {
      let user = Object.hasOwn(store.state().adminUsers, username) ? store.state().adminUsers[username] : undefined;
      if (!user) {
        run({ type: 'CreateAdminUser', data: { username, passwordHash: adminHash, role } });
      } else {
        if (user.mfa.enabled) run({ type: 'DisableMfa', data: { username } });
        if (user.disabled || user.role !== role || user.passwordHash !== adminHash) {
          run({ type: 'UpdateAdminUser', data: { username, role, disabled: false, passwordHash: adminHash } });
        }
      }
      user = store.state().adminUsers[username];
      const isRoleUser = username !== FIXTURES.victimAdmin;
      if (isRoleUser && user && (signedInVersion.get(username) !== user.tokenVersion || signedOut(role))) resign.push(role);
    }
    return resign;
  };

  const keepFixtures = (): void => {
    const s = (): ReturnType<typeof store.state> => store.state();
    if (s().settings.hashIterations > MAX_KEPT_ITERATIONS) run({ type: 'ChangeSettings', data: { hashIterations: 101 } });
    for (const name of FIXTURES.roles) {
      if (!Object.hasOwn(s().roles, name)) run({ type: 'DefineRole', data: { name, rules: [{ topic: `${name}/#`, access: 'read' }] } });
    }
    for (const username of FIXTURES.mqttUsers) {
      if (!Object.hasOwn(s().users, username)) run({ type: 'CreateMqttUser', data: { username, passwordHash: mqttHash, roles: ['sensors'] } });
    }
    if (Object.keys(s().rules).length < 3) run({ type: 'AddAclRule', data: { principal: 'user:alice', topic: `plant/${s().nextRuleId}/#`, access: 'readwrite' } });
    if (Object.keys(s().schemas).length === 0) {
      run({ type: 'AttachSchema', data: { name: `temp-${s().nextSchemaId}`, topicFilter: 'plant/+/temp', schema: { type: 'object', properties: { v: { type: 'number' } } } } });
    }
    if (Object.keys(s().webhooks).length === 0) {
      const secretCiphertext = sealWebhookSecret(deps.secrets, generateWebhookSecret());
      run({ type: 'CreateWebhook', data: { url: 'https://93.184.216.34/hook', events: ['event_appended'], secretCiphertext } });
    }
  };

  const keep = async (): Promise<number> => {
    const before = store.headSeq();
    keepFixtures();
    const resign = keepAdmins();
    for (const role of resign) {
      await signIn(role);
      const user = store.state().adminUsers[ROLE_USERS[role]];
      if (user) signedInVersion.set(user.username, user.tokenVersion);
    }
    return store.headSeq() - before + resign.length;
  };

  await keep();

  return {
    app, server, deps, store, db, clock, config, auth, send, keep,
    token: (role) => {
      const t = tokens.get(role);
      if (t === undefined) throw new Error(`no ${role} session`);
      return t;
    },
    processorFailures: () => processorFailures,
    observeTraffic: (n) => {
      const [topic, payload] = TRAFFIC[n % TRAFFIC.length] as readonly [string, Buffer];
      observe({ topic, payload, qos: 0, retain: false, receivedAt: clock.ms() });
    },
  };
};
