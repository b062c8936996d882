/**
 * The audit screen's data (DESIGN §4, §8): the rows of GET /audit-events (filters by actor, type
 * and time, newest first, secrets redacted by the server), the events of GET /events (one stream's
 * history), the chain check of GET /events/verify, and the time-travel view of GET /state?at=SEQ.
 * Pure functions, tested under node:test (tests/ui/audit-model.test.ts).
 */
import type { Query } from './api-client.ts';
import { inTimeRange, utcInputToIso } from './audit-paging.ts';

export type Actor = { kind: string; id: string; ip?: string; request_id?: string };

/** GET /audit-events item. */
export type AuditRow = { seq: number; at: string; actor: Actor; action: string; resource: string; result: string; summary: string; data?: unknown };

/** GET /events item (payload redacted by the server). */
export type EventView = { seq: number; stream: string; type: string; version: number; data: unknown; actor: Actor; at: string; prev_hash: string; hash: string };

/** GET /events/verify. */
export type VerifyResult = { ok: boolean; count?: number; head?: number; head_hash?: string; first_bad_seq?: number; reason?: string; detail?: string };

/** The event types the log records (core/events.ts), grouped for the type filter. */
export const EVENT_TYPE_GROUPS: readonly { label: string; types: readonly string[] }[] = [
  { label: 'MQTT users', types: ['MqttUserCreated', 'MqttUserPasswordChanged', 'MqttUserDescribed', 'MqttUserDisabled', 'MqttUserEnabled', 'MqttUserDeleted'] },
  { label: 'Roles', types: ['RoleDefined', 'RoleDescribed', 'RoleDeleted', 'RoleGranted', 'RoleRevoked'] },
  { label: 'ACL rules', types: ['AclRuleAdded', 'AclRuleChanged', 'AclRuleRemoved'] },
  { label: 'JSON schemas', types: ['SchemaAttached', 'SchemaChanged', 'SchemaEnabled', 'SchemaDisabled', 'SchemaDetached'] },
  { label: 'Broker settings', types: ['AnonymousAccessChanged', 'HashIterationsChanged'] },
  { label: 'Admin users', types: ['AdminUserCreated', 'AdminUserPasswordChanged', 'AdminUserRoleChanged', 'AdminUserDisabled', 'AdminUserEnabled', 'AdminUserDeleted'] },
  { label: 'Single sign-on', types: ['SsoAdminUserCreated', 'AdminUserLinked', 'AdminUserSignedOut'] },
  { label: 'MFA', types: ['MfaEnrolmentStarted', 'MfaEnabled', 'MfaDisabled', 'MfaRecoveryCodeUsed'] },
  { label: 'API tokens', types: ['ApiTokenCreated', 'ApiTokenRevoked'] },
  { label: 'Broker actions', types: ['BrokerMessagePublished', 'RetainedMessageCleared'] },
  { label: 'Webhooks', types: ['WebhookCreated', 'WebhookChanged', 'WebhookSecretRotated', 'WebhookDeleted'] },
  { label: 'Broker files', types: ['BrokerFilesAdopted'] },
  { label: 'Broker configuration', types: ['BrokerConfigChanged', 'CertificateAdded', 'CertificateRemoved'] },
];
export const EVENT_TYPES: readonly string[] = EVENT_TYPE_GROUPS.flatMap((g) => g.types);

/** The filter form's raw values ('' = no filter). Times are datetime-local values read as UTC. */
export type AuditFilters = { actor: string; type: string; since: string; until: string };
export const NO_AUDIT_FILTERS: AuditFilters = { actor: '', type: '', since: '', until: '' };

export const PAGE_SIZE = 50;

/** The query of GET /audit-events for the filters (throws on a malformed time, see audit-paging.ts). */
export const auditQuery = (f: AuditFilters, cursor?: string, limit = PAGE_SIZE): Query => ({
  actor: f.actor.trim() || undefined,
  type: f.type || undefined,
  since: utcInputToIso(f.since),
  until: utcInputToIso(f.until, true),
  limit,
  cursor,
});

export const hasFilters = (f: AuditFilters): boolean => f.actor.trim() !== '' || f.type !== '' || f.since !== '' || f.until !== '';

/** An `event_appended` message (auditors get stream, type and actor; viewers only seq and time). */
export type EventAppended = { seq: number; stream?: string; event_type?: string; actor?: { kind: string; id: string }; at?: string };

/** Whether a live event could be a row of the filtered list (the server applies the same filters). */
export const liveEventMatches = (m: EventAppended, f: AuditFilters): boolean => {
  const actor = f.actor.trim();
  if (actor !== '' && m.actor !== undefined && m.actor.id !== actor) return false;
  if (f.type !== '' && m.event_type !== undefined && m.event_type !== f.type) return false;
  return inTimeRange(m.at, f.since, f.until);
};

export type ChainTone = 'ok' | 'error' | 'unknown';

/** What the chain banner says: verified through seq N, or the first broken seq and why. */
export const chainStatus = (v: VerifyResult | null): { tone: ChainTone; title: string; detail: string } => {
  if (v === null) return { tone: 'unknown', title: 'Hash chain not checked yet', detail: '' };
  if (v.ok) {
    const n = v.count ?? v.head ?? 0;
    return {
      tone: 'ok',
      title: n === 0 ? 'Hash chain verified: the log is empty' : `Hash chain verified: ${n} event${n === 1 ? '' : 's'}, seq 1 to ${v.head ?? n}`,
      detail: v.head_hash ? `head hash ${v.head_hash}` : '',
    };
  }
  return {
    tone: 'error',
    title: `Hash chain BROKEN at seq ${v.first_bad_seq ?? '?'}`,
    detail: [v.reason, v.detail].filter(Boolean).join(': ') || 'a row, link or the head does not match its hash',
  };
};

/** `admin` actors are people; the rest are MCM itself, the CLI or GitOps. */
export const actorLabel = (a: Actor | undefined): string => (a ? (a.kind === 'admin' ? a.id : `${a.id} (${a.kind})`) : '—');

// ---------------------------------------------------------------- entities and time travel

export type EntityKind = 'mqtt-user' | 'role' | 'acl' | 'schema' | 'settings' | 'admin-user' | 'webhook' | 'broker' | 'broker-files' | 'other';
export type EntityRef = { kind: EntityKind; id: string; stream: string };

/** `mqtt-user:alice` → {kind: 'mqtt-user', id: 'alice'}; names may contain ':' (only the first splits). */
export const entityOf = (stream: string): EntityRef => {
  if (stream === 'settings') return { kind: 'settings', id: '', stream };
  if (stream === 'broker') return { kind: 'broker', id: '', stream };
  // Imports and takeovers of the operator's password_file / acl_file (BrokerFilesAdopted).
  if (stream === 'broker-files') return { kind: 'broker-files', id: '', stream };
  const i = stream.indexOf(':');
  const prefix = i < 0 ? stream : stream.slice(0, i);
  const id = i < 0 ? '' : stream.slice(i + 1);
  const known: readonly EntityKind[] = ['mqtt-user', 'role', 'acl', 'schema', 'admin-user', 'webhook'];
  return { kind: (known as readonly string[]).includes(prefix) ? (prefix as EntityKind) : 'other', id, stream };
};

export const ENTITY_LABELS: Readonly<Record<EntityKind, string>> = {
  'mqtt-user': 'MQTT user', role: 'Role', acl: 'ACL rule', schema: 'JSON schema', settings: 'Broker settings',
  'admin-user': 'Admin user', webhook: 'Webhook', broker: 'Broker actions', 'broker-files': 'Broker files (adoption)', other: 'Entity',
};

export type StateUser = { username: string; description: string; roles: string[]; disabled: boolean; created_at?: string; updated_at?: string };
export type StateRole = { name: string; description: string; users: string[]; rule_count: number };
export type StateRule = { id: number; principal: string; topic: string; access: string; description: string };
export type StateSchema = { id: number; name: string; topic_filter: string; enabled: boolean; description: string; schema?: unknown };

/** GET /state?at=SEQ: the desired state and the rendered broker files (hashes redacted). */
export type StateView = {
  seq: number;
  generation: number;
  users: StateUser[];
  roles: StateRole[];
  rules: StateRule[];
  schemas: StateSchema[];
  settings: { allow_anonymous: boolean; hash_iterations: number };
  password_file: string;
  acl_file: string;
};

/**
 * Before/after of one entity comes from two server folds, GET /state?at=SEQ-1 and ?at=SEQ, not
 * from folding the stream's events here. Why:
 * - The server's fold is the one the apply loop uses (core/evolve.ts, with old event versions
 *   upcast), so both views are exactly what the broker was given; a fold in the UI would
 *   duplicate evolve for every event type and drift from it.
 * - Effects cross streams: RoleGranted is recorded on the user's stream but changes the role's
 *   view too; only a fold of the whole log shows both.
 * - Only the server renders the broker files, so only /state can show what an event changed in
 *   password_file and acl_file — the change that matters to the broker.
 * - One command can append several events (deleting a user first removes its rules, on acl:N
 *   streams, then the user): SEQ-1 vs SEQ isolates exactly this event's own effect.
 * Past states never change (the log is append-only), so they are cached by seq. The state view
 * holds the broker's configuration only: admin users, webhooks and broker actions are not in it
 * (people and secrets), so for those the screen shows the stream's own redacted history from
 * GET /events?stream=.
 */
export const inStateView = (ref: EntityRef): boolean =>
  ref.kind === 'mqtt-user' || ref.kind === 'role' || ref.kind === 'acl' || ref.kind === 'schema' || ref.kind === 'settings';

/** The entity as it is in `state`, or null when it does not exist there (not created yet, or deleted). */
export const entityInState = (state: StateView, ref: EntityRef): Record<string, unknown> | null => {
  switch (ref.kind) {
    case 'mqtt-user': return state.users.find((u) => u.username === ref.id) ?? null;
    case 'role': {
      const role = state.roles.find((r) => r.name === ref.id);
      if (!role) return null;
      // The role's rules are what it grants: show them with it (topic + access per id).
      const rules = state.rules.filter((r) => r.principal === `role:${ref.id}`).map((r) => `#${r.id} ${r.access} ${r.topic}`);
      return { ...role, rules };
    }
    case 'acl': return state.rules.find((r) => String(r.id) === ref.id) ?? null;
    case 'schema': return state.schemas.find((s) => String(s.id) === ref.id) ?? null;
    case 'settings': return state.settings;
    default: return null;
  }
};

/** For an MQTT user: its direct rules too (they change with it, e.g. when it is deleted). */
export const userRules = (state: StateView, username: string): string[] =>
  state.rules.filter((r) => r.principal === `user:${username}`).map((r) => `#${r.id} ${r.access} ${r.topic}`);

export type FieldChange = { key: string; before: string; after: string; changed: boolean };

const show = (v: unknown): string => (v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v));

/** Field by field (top-level keys, in first-seen order); `created_at`/`updated_at` are noise here. */
export const fieldDiff = (before: Record<string, unknown> | null, after: Record<string, unknown> | null): FieldChange[] => {
  const keys: string[] = [];
  for (const o of [before, after]) for (const k of Object.keys(o ?? {})) if (!keys.includes(k) && k !== 'created_at' && k !== 'updated_at') keys.push(k);
  return keys.map((key) => {
    const b = before === null ? '' : show(before[key]);
    const a = after === null ? '' : show(after[key]);
    // Created or deleted: every field changed, even an empty one.
    return { key, before: b, after: a, changed: before === null || after === null || b !== a };
  });
};

/**
 * Lines added and removed between two renderings of a broker file (multiset difference: O(n),
 * fine for 10,000-user files where an LCS table would not be). Blank lines are not news.
 */
export const lineDiff = (before: string, after: string, ignore: (line: string) => boolean = () => false): { added: string[]; removed: string[] } => {
  const skip = (l: string) => l.trim() === '' || ignore(l);
  const count = new Map<string, number>();
  for (const l of before.split('\n')) if (!skip(l)) count.set(l, (count.get(l) ?? 0) + 1);
  const added: string[] = [];
  for (const l of after.split('\n')) {
    if (skip(l)) continue;
    const n = count.get(l) ?? 0;
    if (n > 0) count.set(l, n - 1);
    else added.push(l);
  }
  const removed: string[] = [];
  for (const l of before.split('\n')) {
    if (skip(l)) continue;
    const n = count.get(l) ?? 0;
    if (n > 0) { removed.push(l); count.set(l, n - 1); }
  }
  return { added, removed };
};

/**
 * The ACL file's `# generation N` header and the service account's `topic write $mcm/probe/N`
 * line change with every generation (projections/acl-file.ts): MCM's own canary, not a change
 * anyone made, so the file diff leaves them out.
 */
export const isGenerationLine = (line: string): boolean => /^# generation \d+$/.test(line) || /^topic write \$mcm\/probe\/\d+$/.test(line);

/** A seq typed into the time-travel form: an integer 0..head, or the problem. */
export const seqProblem = (raw: string, head: number | null): string | null => {
  const v = raw.trim();
  if (!/^\d{1,15}$/.test(v)) return 'enter a seq: a whole number, 0 or more';
  if (head !== null && Number(v) > head) return `the log ends at seq ${head}`;
  return null;
};

/** A small cache of state views by seq (each may be a large document; keeps the last few). */
export const createStateCache = (fetchState: (seq: number) => Promise<StateView>, max = 6) => {
  const cache = new Map<number, Promise<StateView>>();
  return {
    get(seq: number): Promise<StateView> {
      const hit = cache.get(seq);
      if (hit) {
        cache.delete(seq);
        cache.set(seq, hit);
        return hit;
      }
      const p = fetchState(seq);
      cache.set(seq, p);
      p.catch(() => cache.delete(seq));
      while (cache.size > max) cache.delete(cache.keys().next().value as number);
      return p;
    },
    size: () => cache.size,
  };
};

/**
 * BrokerFilesAdopted in words (its recorded data: {files: [{file, sha256, path}], how}): which
 * of the operator's files MCM took over, by import or takeover, with the hash it adopted. Null
 * when the data is not that shape.
 */
export const adoptionWording = (data: unknown): { how: 'import' | 'takeover'; text: string; files: string[] } | null => {
  if (typeof data !== 'object' || data === null) return null;
  const d = data as { files?: unknown; how?: unknown };
  if (!Array.isArray(d.files)) return null;
  const how = d.how === 'takeover' ? 'takeover' : 'import';
  const text = how === 'takeover'
    ? 'taken over at start (mcm server --force-takeover): MCM replaces them, the originals are kept as <file>.pre-mcm'
    : 'imported (mcm import or the Import screen): MCM now renders these files from its own state, the originals are kept as <file>.pre-mcm';
  const files = d.files.flatMap((f: unknown) => {
    if (typeof f !== 'object' || f === null) return [];
    const { file, path, sha256 } = f as { file?: unknown; path?: unknown; sha256?: unknown };
    if (typeof file !== 'string') return [];
    const where = typeof path === 'string' && path !== '' ? ` ${path}` : ' (contents given in the request)';
    const hash = typeof sha256 === 'string' ? ` (sha256 ${sha256.length > 12 ? `${sha256.slice(0, 12)}…` : sha256})` : '';
    return [`${file}${where}${hash}`];
  });
  return { how, text, files };
};
