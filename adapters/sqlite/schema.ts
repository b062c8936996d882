/**
 * The database schema as numbered migrations (DESIGN §4). `PRAGMA user_version` holds how many
 * have been applied; `migrate` applies the rest, each in its own transaction, in order.
 *
 * To change the schema, APPEND a migration to MIGRATIONS — never edit a shipped one: databases in
 * the field have already run it, and `user_version` is all that says so.
 */
import type { DatabaseSync } from 'node:sqlite';

export const MIGRATIONS: readonly string[] = [
  // 1 — the event log, its chain head, snapshots, and the append-only side tables.
  `
  -- The event log: append-only; hash = sha256(prev_hash || canonical JSON of the row), DESIGN §4.
  CREATE TABLE events (
    seq INTEGER PRIMARY KEY,
    stream TEXT NOT NULL,
    type TEXT NOT NULL,
    version INTEGER NOT NULL,
    data TEXT NOT NULL,
    actor TEXT NOT NULL,
    at TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
  ) STRICT;
  CREATE INDEX events_stream_seq ON events (stream, seq);

  -- One row, updated in the same transaction as every append, so a deleted tail is detectable.
  CREATE TABLE chain_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL
  ) STRICT;

  -- A cache of the folded state: deleting rows changes nothing but start-up time.
  CREATE TABLE snapshots (
    seq INTEGER PRIMARY KEY,
    state TEXT NOT NULL,
    event_hash TEXT NOT NULL
  ) STRICT;

  -- Observations that must survive restarts (DESIGN §1): not admin changes, so not events.
  CREATE TABLE security_events (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    category TEXT NOT NULL,
    severity TEXT NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
    message TEXT NOT NULL,
    details TEXT NOT NULL DEFAULT '{}',
    actor TEXT,
    ip TEXT
  ) STRICT;
  CREATE INDEX security_events_category_id ON security_events (category, id);
  CREATE INDEX security_events_at ON security_events (at);

  -- The apply loop's checkpoints (DESIGN §6): recorded only after the broker confirmed.
  CREATE TABLE apply_results (
    id INTEGER PRIMARY KEY,
    generation INTEGER NOT NULL,
    result TEXT NOT NULL CHECK (result IN ('applied', 'written', 'failed')),
    reason TEXT,
    latency_ms REAL,
    password_sha256 TEXT,
    acl_sha256 TEXT,
    at TEXT NOT NULL
  ) STRICT;

  -- The files last confirmed by the broker, restored when a new apply fails (DESIGN §6).
  CREATE TABLE last_good_files (
    name TEXT PRIMARY KEY,
    generation INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    content TEXT NOT NULL
  ) STRICT;

  -- TOTP replay protection (DESIGN §9): a time step accepted once per user is never accepted again.
  CREATE TABLE mfa_used_steps (
    username TEXT NOT NULL,
    step INTEGER NOT NULL,
    PRIMARY KEY (username, step)
  ) STRICT;
  `,
  // 2 — the webhook outbox (DESIGN §1: observations that must survive restarts). One row per
  // (webhook, occurrence); the dispatcher sends due `pending` rows, retries with backoff, and
  // dead-letters after config webhooks.max_attempts.
  `
  CREATE TABLE webhook_deliveries (
    id INTEGER PRIMARY KEY,
    webhook_id INTEGER NOT NULL,
    event_type TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'dead')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_status_code INTEGER,
    last_error TEXT,
    created_at TEXT NOT NULL,
    delivered_at TEXT
  ) STRICT;
  CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
  CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook_id, id);
  `,
  // 3: repeats of a noisy security event (a bad token from one address) are one row with a count
  // and the time of the last one, so a flood of requests can't grow the table without bound.
  `
  ALTER TABLE security_events ADD COLUMN count INTEGER NOT NULL DEFAULT 1;
  ALTER TABLE security_events ADD COLUMN last_at TEXT;
  CREATE INDEX security_events_severity_id ON security_events (severity, id);
  `,
  // 4: snapshots carry an HMAC of their content (key in secrets/, never in the database): a
  // snapshot edited to add an admin is refused instead of folded into the state unseen.
  `
  ALTER TABLE snapshots ADD COLUMN mac TEXT;
  `,
  // 5: the webhook dispatcher's catch-up cursor (adapters/webhooks/outbox.ts): the last event seq
  // turned into `event_appended` deliveries, moved in the same transaction as the rows it queues.
  // An admin change committed but not queued (a crash in between, a CLI write while the server is
  // down) is queued at the next start. An existing log starts at its head: history is not re-sent.
  `
  CREATE TABLE webhook_cursor (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL
  ) STRICT;
  INSERT INTO webhook_cursor (id, seq) SELECT 1, coalesce(max(seq), 0) FROM events;
  `,
  // 6: failed sign-in attempts (DESIGN §9), kept so a restart keeps a lockout: one row per
  // failure; the (address, username) pair, the address (IPv6 by its /64) and the username
  // counters are all counted from it (adapters/sqlite/login-failures.ts), rows past the window pruned.
  `
  CREATE TABLE login_failures (
    id INTEGER PRIMARY KEY,
    address_key TEXT NOT NULL,
    ip TEXT NOT NULL,
    username TEXT NOT NULL,
    at_ms INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX login_failures_pair ON login_failures (address_key, username, at_ms);
  CREATE INDEX login_failures_username ON login_failures (username, at_ms);
  CREATE INDEX login_failures_at ON login_failures (at_ms);
  `,
  // 7: content whose apply failed open is quarantined (adapters/sqlite/apply-results.ts, issue 12):
  // the sha256 of the render's content keys; an apply rendering it again writes nothing until the
  // content changes or an admin retries (which deletes the rows).
  `
  CREATE TABLE apply_quarantine (
    content_sha256 TEXT PRIMARY KEY,
    generation INTEGER NOT NULL,
    reason TEXT NOT NULL,
    at TEXT NOT NULL
  ) STRICT;
  `,
  // 8: the last-known-good files carry an HMAC of their content (key in secrets/, never in the
  // database): an edited record can't make MCM take foreign files for its own or restore them.
  `
  ALTER TABLE last_good_files ADD COLUMN mac TEXT;
  `,
  // 9: when and from where each API token was last used (issue 17). Not events: a use is not a
  // change, and one row per token (by its id, as a name can be reused after a revocation) is
  // updated at most once a minute per token and address.
  `
  CREATE TABLE api_token_usage (
    token_id TEXT PRIMARY KEY,
    last_used_at TEXT NOT NULL,
    last_used_ip TEXT NOT NULL
  ) STRICT;
  `,
];

/** The schema version this code expects: the number of migrations. */
export const SCHEMA_VERSION = MIGRATIONS.length;

const userVersion = (db: DatabaseSync): number => {
  const row = db.prepare('PRAGMA user_version').get() as { user_version?: number } | undefined;
  return Number(row?.user_version ?? 0);
};

/**
 * Applies the pending migrations. Each runs with its `user_version` bump in one IMMEDIATE
 * transaction, so a crash leaves the database at a whole version and a concurrent opener waits
 * (busy_timeout) rather than running the same migration twice.
 */
export const migrate = (db: DatabaseSync): void => {
  for (;;) {
    db.exec('BEGIN IMMEDIATE');
    try {
      // Read inside the write lock: another process may have migrated while we waited.
      const current = userVersion(db);
      if (current > MIGRATIONS.length) {
        throw new Error(
          `database schema version ${current} is newer than this MCM understands (${MIGRATIONS.length}): upgrade MCM or restore a matching backup`,
        );
      }
      const sql = MIGRATIONS[current];
      if (sql === undefined) {
        db.exec('COMMIT');
        return;
      }
      db.exec(sql);
      // PRAGMA takes no bound parameters; `current + 1` is an integer we computed.
      db.exec(`PRAGMA user_version = ${current + 1}`);
      db.exec('COMMIT');
    } catch (err) {
      if (db.isTransaction) db.exec('ROLLBACK');
      throw err;
    }
  }
};
