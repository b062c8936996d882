/**
 * An HTTP app on a temp-dir SQLite file, listening on 127.0.0.1:0, closed in t.after. One admin
 * user per role is created through handleCommand (the one write path), all with TEST_PASSWORD;
 * `tokenFor(role)` signs in through POST /api/v1/auth/login like a real client.
 *
 *   const h = await createTestApp(t);
 *   const res = await h.request('GET', '/api/v1/admin-users', { token: await h.tokenFor('auditor') });
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import type { TestContext } from 'node:test';
import type Koa from 'koa';
import { pino } from 'pino';
import { handleCommand } from '../../core/handle-command.ts';
import type { Clock } from '../../core/ports.ts';
import { ADMIN_ROLES, type AdminRole } from '../../core/state.ts';
import type { Config } from '../../adapters/config/config.ts';
import { defaultConfig } from '../../adapters/config/defaults.ts';
import { createHttpApp } from '../../adapters/http/app.ts';
import { createAdminHasher } from '../../adapters/http/auth/admin-hasher.ts';
import type { HttpDeps, HttpEventStore } from '../../adapters/http/deps.ts';
import { createMosquittoHasher } from '../../adapters/mosquitto/password-hash.ts';
import { createSecretStore } from '../../adapters/secrets/secret-store.ts';
import { createSqliteEventStore } from '../../adapters/sqlite/event-store.ts';
import { openDatabase } from '../../adapters/sqlite/open-database.ts';
import { createSecurityEventLog } from '../../adapters/sqlite/security-events.ts';

/** The password of every user the helper creates (>= 12 characters, the admin password minimum). */
export const TEST_PASSWORD = 'test-password-0123';

/** The user created for each role. */
export const ROLE_USERS: Readonly<Record<AdminRole, string>> = {
  viewer: 'test-viewer',
  auditor: 'test-auditor',
  operator: 'test-operator',
  admin: 'test-admin',
};

export type TestClock = Clock & {
  /** Milliseconds since the epoch, as `now()` reports it. */
  ms(): number;
  advance(seconds: number): void;
  set(iso: string): void;
};

/** A clock that only moves when told to (JWT expiry, lockout windows, TOTP steps use it). */
export const createTestClock = (start: string = new Date().toISOString()): TestClock => {
  let ms = Date.parse(start);
  if (Number.isNaN(ms)) throw new Error(`invalid start time ${start}`);
  return {
    now: () => new Date(ms).toISOString(),
    ms: () => ms,
    advance: (seconds) => { ms += Math.round(seconds * 1000); },
    set: (iso) => { ms = Date.parse(iso); },
  };
};

export type TestResponse = {
  status: number;
  headers: Headers;
  /** Parsed JSON when the response is JSON, otherwise the text ('' when empty). */
  body: any;
  text: string;
};

export type RequestOptions = {
  token?: string;
  /** Sent as JSON with `Content-Type: application/json`. */
  body?: unknown;
  /** Sent as is (malformed JSON, oversized bodies); set a content-type in `headers` if needed. */
  rawBody?: string | Uint8Array;
  headers?: Record<string, string>;
};

export type TestAppOptions = {
  /** Mutates the test config (already: temp data_dir, bcrypt_cost 4) before anything is built. */
  config?: (config: Config) => void;
  /** Replaces deps after they are built (e.g. `apply`, `readiness`, a fake hasher). */
  deps?: Partial<HttpDeps>;
  /** Create one admin user per role (default true). */
  users?: boolean;
  /** An existing data dir (another app's: a restart); default a new temp dir. */
  dataDir?: string;
};

export type TestApp = {
  app: Koa;
  server: Server;
  baseUrl: string;
  deps: HttpDeps;
  store: HttpEventStore;
  db: DatabaseSync;
  clock: TestClock;
  config: Config;
  dataDir: string;
  /** A token for the helper's user of that role (cached per role). */
  tokenFor(role: AdminRole): Promise<string>;
  /** POST /api/v1/auth/login. */
  login(username: string, password: string, headers?: Record<string, string>): Promise<TestResponse>;
  /** `path` is the full path, e.g. '/api/v1/admin-users' or '/healthz'. */
  request(method: string, path: string, options?: RequestOptions): Promise<TestResponse>;
  /** Events in the log (the head seq): unchanged after a refused request. */
  eventCount(): number;
};

export const createTestApp = async (t: TestContext, options: TestAppOptions = {}): Promise<TestApp> => {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'mcm-http-'));
  const config = defaultConfig({ mosquittoBinary: null });
  config.data_dir = dataDir;
  config.log_level = 'silent';
  config.http.port = 0;
  config.auth.bcrypt_cost = 4;
  options.config?.(config);

  const clock = createTestClock();
  const db = openDatabase(join(dataDir, 'mcm.db'));
  const store = createSqliteEventStore({ db });
  const deps: HttpDeps = {
    store,
    clock,
    config,
    logger: pino({ level: 'silent' }),
    mqttHasher: createMosquittoHasher(),
    adminHasher: createAdminHasher({ cost: config.auth.bcrypt_cost }),
    securityLog: createSecurityEventLog({ db, clock }),
    secrets: createSecretStore(dataDir),
    serviceAccount: config.mqtt.service_account.username,
    apply: null,
    db,
    ...options.deps,
  };

  if (options.users !== false) {
    const passwordHash = await deps.adminHasher.hash(TEST_PASSWORD);
    for (const role of ADMIN_ROLES) {
      handleCommand(deps, { type: 'CreateAdminUser', data: { username: ROLE_USERS[role], passwordHash, role } }, {
        actor: { kind: 'system', id: 'test' },
      });
    }
  }

  const app = createHttpApp(deps);
  const server = createServer(app.callback());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;

  // One hook, in this order: the server (and its keep-alive sockets), the database, the files.
  t.after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    db.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const request = async (method: string, path: string, opts: RequestOptions = {}): Promise<TestResponse> => {
    const headers: Record<string, string> = { ...opts.headers };
    let body: string | Uint8Array | undefined;
    if (opts.rawBody !== undefined) {
      body = opts.rawBody;
    } else if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers['content-type'] ??= 'application/json';
    }
    if (opts.token !== undefined) headers['authorization'] = `Bearer ${opts.token}`;
    const res = await fetch(baseUrl + path, { method, headers, ...(body === undefined ? {} : { body }) });
    const text = await res.text();
    const isJson = /^application\/(.+\+)?json/.test(res.headers.get('content-type') ?? '');
    return { status: res.status, headers: res.headers, body: isJson && text !== '' ? JSON.parse(text) : text, text };
  };

  const login = (username: string, password: string, headers?: Record<string, string>): Promise<TestResponse> =>
    request('POST', '/api/v1/auth/login', { body: { username, password }, ...(headers ? { headers } : {}) });

  const tokens = new Map<AdminRole, string>();
  const tokenFor = async (role: AdminRole): Promise<string> => {
    const cached = tokens.get(role);
    if (cached) return cached;
    const res = await login(ROLE_USERS[role], TEST_PASSWORD);
    if (res.status !== 200 || typeof res.body?.token !== 'string') {
      throw new Error(`login as ${ROLE_USERS[role]} failed: ${res.status} ${res.text}`);
    }
    tokens.set(role, res.body.token);
    return res.body.token;
  };

  return {
    app, server, baseUrl, deps, store, db, clock, config, dataDir,
    tokenFor, login, request,
    eventCount: () => store.headSeq(),
  };
};
