/**
 * What the HTTP adapter needs from the rest of the server. `adapters/main.ts` builds it; tests
 * build it with tests/helpers/http.ts. Everything is passed in (STYLE principle 7): no module
 * singletons, so two apps in one process (tests) never share state.
 */
import type { GroupCommit } from '../sqlite/group-commit.ts';
import type { DatabaseSync } from 'node:sqlite';
import type { Logger } from 'pino';
import type { Clock, EventStore, PasswordHasher } from '../../core/ports.ts';
import type { Config } from '../config/config.ts';
import type { ObserverApi } from '../mqtt/observer-api.ts';
import type { SchemaStats } from '../observer/schema-validator.ts';
import type { SparkplugNodesView } from '../observer/sparkplug-view.ts';
import type { Metrics } from '../metrics/registry.ts';
import type { SecretStore } from '../secrets/secret-store.ts';
import type { VerifyResult } from '../sqlite/event-store.ts';
import type { AuthServices } from './auth/services.ts';
import type { OidcRelyingParty } from './auth/oidc-client.ts';
import type { SecurityEventLog } from '../sqlite/security-events.ts';
import type { BrokerConfigPort } from '../broker-config/broker-config-service.ts';

export type { Logger };

/** The event store plus the hash-chain walk behind `GET /events/verify` (DESIGN §4). */
export type HttpEventStore = EventStore & { verify(): VerifyResult };

/** bcrypt for admin passwords (DESIGN §9), cost from config.auth.bcrypt_cost. */
export type AdminHasher = {
  hash(password: string): Promise<string>;
  verify(password: string, hash: string): Promise<boolean>;
};

export type { SecurityEventLog, VerifyResult };

export type ApplyResult = 'applied' | 'written' | 'failed';

/** `GET /apply-status` (DESIGN §8). */
export type ApplyStatus = {
  desired_seq: number;
  applied_seq: number;
  state: 'applied' | 'pending' | 'failed' | 'adoption_required';
  last: { seq: number; result: ApplyResult; latency_ms: number | null; at: string; reason?: string } | null;
  broker: { mode: string; up: boolean; version?: string | null };
  /** With state `adoption_required`: the broker files MCM did not write (issue 11). */
  adoption?: { files: { file: string; path: string; sha256: string }[]; message: string };
};

export type HttpDeps = {
  store: HttpEventStore;
  /** Group commit for the write routes (adapters/sqlite/group-commit.ts); without it each write commits alone. */
  commits?: GroupCommit;
  clock: Clock;
  config: Config;
  logger: Logger;
  /** `$7$` hashes for MQTT users (adapters/mosquitto/password-hash.ts). */
  mqttHasher: PasswordHasher;
  adminHasher: AdminHasher;
  /** The append-only security event table (auth.login_failed, auth.locked_out, …). */
  securityLog: SecurityEventLog;
  secrets: SecretStore;
  /** MQTT service account username: refused as an MQTT username (MCM_ERR_USERNAME_RESERVED). */
  serviceAccount: string;
  /** The enforcement backend (config mosquitto.backend): decide refuses what it cannot express. */
  backend?: 'files' | 'dynsec';
  /** Supervised mode: renders and checks mosquitto.conf for /broker/config (issue 13); absent in external mode. */
  brokerConfig?: BrokerConfigPort | null;
  /** null when no apply loop runs (tests). */
  apply: { status(): ApplyStatus; retry(): Promise<ApplyStatus> } | null;
  readiness?: () => { ready: boolean; reasons: string[] };
  /** For read models that are tables (mfa_used_steps, security events). */
  db: DatabaseSync;
  /**
   * Token service, lockout, MFA challenges, TOTP (auth/services.ts). createHttpApp builds it when
   * absent; adapters/main.ts may build it first to share the token check with the ws hub.
   */
  auth?: AuthServices;
  /**
   * Prometheus metrics (adapters/metrics/registry.ts): request metrics by route pattern and
   * `GET /metrics` (token: config.metrics.token). Absent: neither (tests that don't need them).
   */
  metrics?: Metrics;
  /**
   * The broker observer (adapters/mqtt/observer-api.ts): GET /status, /clients, /topics,
   * POST /broker/publish, DELETE /retained/{topic}. Absent: those answer 503
   * MCM_ERR_OBSERVER_UNAVAILABLE (GET /status still answers, with the broker state unknown).
   */
  observer?: ObserverApi;
  /**
   * Live JSON schema counters (adapters/observer/schema-validator.ts), added to GET /json-schemas
   * responses as valid_count, invalid_count, last_violation. Absent: the fields are left out.
   */
  schemaStats?: { stats(id: number): SchemaStats | null };
  /** Sparkplug B sessions (adapters/observer/sparkplug-tracker.ts). Absent: GET /sparkplug/nodes answers 503. */
  sparkplug?: { nodes(): SparkplugNodesView };
  /**
   * The OpenID Provider of config auth.oidc (auth/oidc-client.ts), built by start-http.ts; tests
   * pass a fake. Absent or null: single sign-on is off (its routes answer MCM_ERR_SSO_NOT_CONFIGURED).
   */
  oidc?: OidcRelyingParty | null;
};
