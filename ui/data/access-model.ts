/**
 * The Access and MQTT users screens' pure logic (DESIGN §5): principals, ACL rule rows with live
 * topic-filter checks, labels for explain sources, client-side list filters and a pager that reads
 * a whole collection. No DOM: tested under node:test.
 */
import { topicFilterProblem, topicNameProblem } from './topic-filter.ts';

export const ACCESS_VALUES = ['read', 'write', 'readwrite', 'deny'] as const;
export type Access = (typeof ACCESS_VALUES)[number];
export const PRINCIPAL_KINDS = ['user', 'role', 'anonymous', 'pattern'] as const;
export type PrincipalKind = (typeof PRINCIPAL_KINDS)[number];

export type AclRule = { id: number; principal: string; topic: string; access: string; description: string; created_at: string; updated_at?: string };
export type Role = { name: string; description: string; users: string[]; rule_count: number; created_at: string; updated_at: string };
export type RoleDetail = Role & { rules: AclRule[] };
export type MqttUser = { username: string; description: string; roles: string[]; disabled: boolean; created_at: string; updated_at: string };
export type ExplainMatch = { id?: number; principal: string; topic: string; access: string; source: string };
export type ExplainResult = { allowed: boolean; reason: string; matched: ExplainMatch[]; can_connect?: boolean; notes?: string[] };
export type WhoResult = {
  topic: string;
  action: 'read' | 'write';
  users: { username: string; matched: ExplainMatch[]; mcm_service_account?: true }[];
  anonymous: boolean;
  depends_on_clientid?: ExplainMatch[];
  patterns_note?: string;
};

export const isAccess = (v: string): v is Access => (ACCESS_VALUES as readonly string[]).includes(v);

/** What each access value means, for labels and hints. */
export const ACCESS_HINTS: Record<Access, string> = {
  read: 'subscribe and receive',
  write: 'publish',
  readwrite: 'publish, subscribe and receive',
  deny: 'refuses access to matching topics',
};

/** Role names travel in `role:<name>` and URLs: the server's rule (core/names.ts), checked as you type. */
export const ROLE_NAME_MAX = 128;
export const roleNameProblem = (name: string): string | null => {
  if (name.length === 0) return 'role name must not be empty';
  if (name.length > ROLE_NAME_MAX) return `role name must be at most ${ROLE_NAME_MAX} characters (got ${name.length})`;
  if (!/^[A-Za-z0-9._-]+$/.test(name)) return 'role name may contain only letters, digits, ".", "_" and "-"';
  if (name === '.' || name === '..') return 'role name must not be "." or ".."';
  return null;
};

/** The principal string for a kind and a name, or the problem with the name. */
export const buildPrincipal = (kind: PrincipalKind, name: string): { principal: string } | { problem: string } => {
  if (kind === 'anonymous' || kind === 'pattern') return { principal: kind };
  if (name.length === 0) return { problem: `name the ${kind} this rule is for` };
  if (kind === 'role') {
    const p = roleNameProblem(name);
    if (p) return { problem: p };
  }
  return { principal: `${kind}:${name}` };
};

export const splitPrincipal = (principal: string): { kind: PrincipalKind | 'other'; name: string } => {
  if (principal === 'anonymous' || principal === 'pattern') return { kind: principal, name: '' };
  const i = principal.indexOf(':');
  const kind = i > 0 ? principal.slice(0, i) : '';
  return kind === 'user' || kind === 'role' ? { kind, name: principal.slice(i + 1) } : { kind: 'other', name: principal };
};

/** "user alice", "role sensors", "anonymous clients", "pattern (every user)". */
export const principalLabel = (principal: string): string => {
  const { kind, name } = splitPrincipal(principal);
  switch (kind) {
    case 'user': return `user ${name}`;
    case 'role': return `role ${name}`;
    case 'anonymous': return 'anonymous clients';
    case 'pattern': return 'pattern (every user)';
    default: return principal;
  }
};

/** Where an explain match came from (core/acl-model.ts AclSourceKind). */
export const sourceLabel = (source: string): string => {
  if (source === 'direct') return 'direct rule of the user';
  if (source.startsWith('role:')) return `via role ${source.slice(5)}`;
  if (source === 'anonymous') return 'anonymous rule';
  if (source === 'pattern') return 'pattern rule';
  if (source === 'service-account') return "MCM's service account";
  return source;
};

/**
 * The problem with a rule's topic filter, or null. Pattern rules may use %u and %c, which the
 * broker substitutes per client; they are checked as written (Mosquitto checks them so too).
 */
export const ruleTopicProblem = (topic: string): string | null => (topic.length === 0 ? 'enter a topic filter' : topicFilterProblem(topic));

/**
 * The broker substitutes %u and %c only in pattern rules; in a user's, a role's or the anonymous
 * rules they are literal text. A hint (not an error: the filter is valid), or null.
 */
export const literalSubstitutionHint = (kind: PrincipalKind, topic: string): string | null =>
  kind !== 'pattern' && /%[uc]/.test(topic) ? `%u and %c are replaced only in pattern rules: in a ${kind === 'anonymous' ? 'anonymous' : kind} rule they match the literal text` : null;

/** The problem with a concrete topic (explain, who-can), or null. */
export const concreteTopicProblem = (topic: string): string | null => (topic.length === 0 ? 'enter a topic' : topicNameProblem(topic));

export type RuleRow = { topic: string; access: string };

/** One problem (or null) per row; a row must have a valid filter and a known access value. */
export const ruleRowProblems = (rows: readonly RuleRow[]): (string | null)[] => {
  const seen = new Set<string>();
  return rows.map((r) => {
    const p = ruleTopicProblem(r.topic);
    if (p) return p;
    if (!isAccess(r.access)) return `access must be one of ${ACCESS_VALUES.join(', ')}`;
    const key = `${r.access}\u0000${r.topic}`;
    if (seen.has(key)) return 'the same rule appears twice';
    seen.add(key);
    return null;
  });
};

export const rowsValid = (rows: readonly RuleRow[]): boolean => ruleRowProblems(rows).every((p) => p === null);

/** Why rule rows can't be saved, for the disabled button's note (issue 16); null when they can. */
export const rowsProblem = (rows: readonly RuleRow[]): string | null => {
  const problems = ruleRowProblems(rows);
  const first = problems.findIndex((p) => p !== null);
  if (first < 0) return null;
  if (rows[first]?.topic === '') return `Rule ${first + 1} has no topic filter yet: fill it in or remove the row.`;
  return `Rule ${first + 1}: ${problems[first]}.`;
};

/** A role's rules as editor rows (order kept: by id). */
export const rowsFromRules = (rules: readonly { topic: string; access: string }[]): RuleRow[] => rules.map((r) => ({ topic: r.topic, access: r.access }));

/** Case-insensitive substring match on the given fields; an empty query matches everything. */
export const matchesQuery = (query: string, ...fields: (string | readonly string[])[]): boolean => {
  const q = query.trim().toLowerCase();
  if (q === '') return true;
  return fields.some((f) => (typeof f === 'string' ? [f] : f).some((s) => s.toLowerCase().includes(q)));
};

export type Page<T> = { items: T[]; total?: number; next?: string | null };

/**
 * Reads a collection page by page (`?limit=&cursor=`, DESIGN §8) up to `max` items; `truncated`
 * says there were more, so a screen can say it shows only the first ones.
 */
export const fetchAll = async <T>(
  get: (path: string, query: Record<string, string | number>) => Promise<Page<T>>,
  path: string,
  opts: { pageSize?: number; max?: number; query?: Record<string, string | number> } = {},
): Promise<{ items: T[]; truncated: boolean }> => {
  const pageSize = opts.pageSize ?? 1000;
  const max = opts.max ?? 10_000;
  const items: T[] = [];
  let cursor: string | null | undefined;
  for (;;) {
    const page = await get(path, { ...opts.query, limit: pageSize, ...(cursor ? { cursor } : {}) });
    items.push(...page.items);
    cursor = page.next;
    if (!cursor || page.items.length === 0) return { items: items.slice(0, max), truncated: items.length > max };
    if (items.length >= max) return { items: items.slice(0, max), truncated: true };
  }
};

/** Roles from a comma- or space-separated list: trimmed, unique, in order. */
export const parseRoleList = (text: string): string[] => [...new Set(text.split(/[\s,]+/).map((s) => s.trim()).filter(Boolean))];

/** "allowed" / "denied" with the deciding rule ids, for a one-line summary. */
export const explainSummary = (r: ExplainResult): string => {
  const ids = r.matched.map((m) => (m.id === undefined ? sourceLabel(m.source) : `rule ${m.id}`));
  return `${r.allowed ? 'allowed' : 'denied'}${ids.length > 0 ? ` by ${ids.join(', ')}` : ''}: ${r.reason}`;
};
