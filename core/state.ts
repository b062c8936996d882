/**
 * The desired state folded from the event log (DESIGN §1). Plain JSON-serialisable objects so
 * snapshots can store it. `evolve` updates a state in place and returns it (see core/evolve.ts):
 * folding 10,000 users must not copy a 10,000-entry map per event. `decide` only reads.
 */
import type { AclRule } from './acl-types.ts';
import type { BrokerConfigModel, Certificate } from './broker-config/model.ts';

export const ADMIN_ROLES = ['viewer', 'auditor', 'operator', 'admin'] as const;
export type AdminRole = (typeof ADMIN_ROLES)[number];

export type MqttUser = {
  username: string;
  /**
   * Mosquitto hash field, e.g. `$7$101$<salt b64>$<hash b64>`; never a plaintext password. Imported
   * hashes are kept byte for byte (`$6$`, `$7$` with any salt length, argon2id). The empty string
   * means the user has no password line (imported from an acl_file `user` block alone): its ACL
   * block is rendered, its password line is not.
   */
  passwordHash: string;
  description: string;
  disabled: boolean;
  /** Granted role names, sorted. */
  roles: string[];
  createdAt: string;
  updatedAt: string;
};

export type Role = { name: string; description: string; createdAt: string; updatedAt: string };

export type JsonSchemaDef = {
  id: number;
  name: string;
  topicFilter: string;
  schema: unknown;
  enabled: boolean;
  description: string;
  createdAt: string;
  updatedAt: string;
};

export type AdminUser = {
  username: string;
  /** bcrypt hash. */
  passwordHash: string;
  role: AdminRole;
  disabled: boolean;
  /** Bumped on password, role, disabled or MFA change: tokens carrying an older value are revoked. */
  tokenVersion: number;
  mfa: {
    enabled: boolean;
    /** AES-256-GCM ciphertext of the TOTP secret (key outside the log); null when never enrolled. */
    secretCiphertext: string | null;
    /** bcrypt hashes of the recovery codes; a used code becomes null. */
    recoveryCodeHashes: (string | null)[];
    /**
     * A started, not yet verified (re-)enrolment. It replaces the active secret and codes only when
     * a code from it verifies (MfaEnabled): until then the old authenticator and codes keep working,
     * so losing the setup response can't lock an admin out.
     */
    pending: { secretCiphertext: string; recoveryCodeHashes: string[] } | null;
  };
  /**
   * The OpenID Connect account this user signs in as (issuer URL and its `sub`); absent for a
   * local-only user. A user created at first SSO sign-in has passwordHash '' (no local password).
   */
  sso?: { issuer: string; subject: string };
  /**
   * Sessions signed out before their token expires: token id (`jti`) → its expiry. Tokens carrying
   * one of them are revoked; entries past their expiry are dropped at the user's next sign-out.
   */
  endedSessions?: Record<string, string>;
  createdAt: string;
  updatedAt: string;
};

/** An API token (issue 17). The secret itself is never stored: `secretHash` is its keyed hash. */
export type ApiToken = {
  name: string;
  /** Public part of the token string (`mcmt_<tokenId>_<secret>`): finds the record to check. */
  tokenId: string;
  /** `hmac-sha256$<hex>` of the secret, keyed with secrets/api-token.key. */
  secretHash: string;
  role: AdminRole;
  /** The admin user who created it: the token never gets more than this user's current role. Null: the local CLI. */
  owner: string | null;
  expiresAt: string | null;
  createdAt: string;
};

export type Webhook = {
  id: number;
  url: string;
  /** Subscribed categories (core/webhook-events.ts). */
  events: string[];
  /** AES-256-GCM ciphertext of the HMAC signing secret. */
  secretCiphertext: string;
  enabled: boolean;
  description: string;
  createdAt: string;
  updatedAt: string;
};

export type BrokerSettings = {
  /** Rendered as allow_anonymous in supervised mode; default off (DESIGN §5). */
  allowAnonymous: boolean;
  /** `$7$` PBKDF2 iteration count for new hashes; Mosquitto's default is 101 (reference §1.2). */
  hashIterations: number;
};

/**
 * A file MCM did not write that it may now replace (DESIGN §10 "Ownership"): recorded by an import
 * or an explicit takeover with the sha256 of the exact bytes planned on. The apply loop replaces a
 * foreign file only when its bytes still hash to this (keeping the original as `<file>.pre-mcm`).
 */
export type AdoptedFile = { sha256: string; path: string | null; how: 'import' | 'takeover'; seq: number };

export type BrokerConfig = {
  /** Seq of the last event folded in (0 for the empty log). */
  seq: number;
  /** Seq of the last event that changed what the broker files say (DESIGN §6: the generation). */
  generation: number;
  users: Record<string, MqttUser>;
  roles: Record<string, Role>;
  /** Keyed by String(id). */
  rules: Record<string, AclRule>;
  nextRuleId: number;
  /** Keyed by String(id). */
  schemas: Record<string, JsonSchemaDef>;
  nextSchemaId: number;
  settings: BrokerSettings;
  adminUsers: Record<string, AdminUser>;
  /** Keyed by String(id). */
  webhooks: Record<string, Webhook>;
  nextWebhookId: number;
  /** Keyed by 'password_file' | 'acl_file'. Absent in snapshots written before adoption existed. */
  adoptedFiles?: Partial<Record<'password_file' | 'acl_file', AdoptedFile>>;
  /** mosquitto.conf as MCM manages it. Absent in snapshots written before it existed (= empty). */
  brokerConfig?: BrokerConfigModel;
  /** TLS certificates by name (facts only; PEM and key in secrets/). Absent in older snapshots. */
  certificates?: Record<string, Certificate>;
  /** API tokens by name. Absent in snapshots written before they existed (= none). */
  apiTokens?: Record<string, ApiToken>;
};

export const DEFAULT_HASH_ITERATIONS = 101;

export const initialState = (): BrokerConfig => ({
  seq: 0,
  generation: 0,
  users: {},
  roles: {},
  rules: {},
  nextRuleId: 1,
  schemas: {},
  nextSchemaId: 1,
  settings: { allowAnonymous: false, hashIterations: DEFAULT_HASH_ITERATIONS },
  adminUsers: {},
  webhooks: {},
  nextWebhookId: 1,
  adoptedFiles: {},
  brokerConfig: { listeners: [], options: {}, bridges: [], passthrough: [] },
  certificates: {},
  apiTokens: {},
});

/** Deep copy (the state is plain JSON): for time travel and for callers that keep an old state. */
export const cloneState = (s: BrokerConfig): BrokerConfig => structuredClone(s);
