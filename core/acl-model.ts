/**
 * The broker's view of the rendered ACL file, built from state (DESIGN §6, reference §2.2):
 * the anonymous list, one flattened list per enabled user (direct rules + granted roles), the
 * service account's list, and the pattern list. The ACL renderer writes it; explain evaluates it.
 *
 * Each list is reduced without changing any decision: Mosquitto's ACL load grows faster than
 * linearly with the number of lines (reference §10), so duplicate and subsumed lines are dropped.
 */
import type { Access, AclRule, Principal } from './acl-types.ts';
import type { BrokerConfig } from './state.ts';
import { filterCovers } from './topic-match.ts';

export type AclSourceKind = 'direct' | `role:${string}` | 'anonymous' | 'pattern' | 'service-account';

/** Where an ACL line came from: a stored rule (with its id) or MCM's own service account. */
export type AclSource = { id?: number; principal: Principal; topic: string; access: Access; source: AclSourceKind };

/** One line of a list: `topic <access> <topic>` (or `pattern …`), with every rule it stands for. */
export type AclEntry = { access: Access; topic: string; sources: AclSource[] };

export type AclModel = {
  anonymous: AclEntry[];
  /**
   * Sorted by username; only enabled users with at least one rule or without a password line,
   * plus the service account.
   * Read-only: users with the same roles and no direct rules share one list.
   */
  users: Map<string, AclEntry[]>;
  patterns: AclEntry[];
};

export type BuildAclModelOptions = { serviceAccount: string; generation: number };

const ACCESS_ORDER: Record<Access, number> = { read: 0, write: 1, readwrite: 2, deny: 3 };

/** Plain code-unit order: deterministic and locale-free. */
export const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

const compareEntries = (a: AclEntry, b: AclEntry): number =>
  compareText(a.topic, b.topic) || ACCESS_ORDER[a.access] - ACCESS_ORDER[b.access];

/** True when an allow with access `a` grants everything one with access `b` grants. */
export const accessCovers = (a: Access, b: Access): boolean => a === b || a === 'readwrite';

const hasSubstitution = (topic: string): boolean => topic.includes('%c') || topic.includes('%u');

/**
 * Coverage between two `pattern` topics, which is only safe where %c/%u substitution cannot break
 * it: a client id may hold '/' or start with '$' (reference §2.3), so `+/x` does NOT cover `%c/x`.
 * Safe cases: no substitution in either; identical text; `P/#` against `P` or `P/…` (same text
 * prefix, so the same substituted prefix); `#` against a topic whose first character is fixed.
 */
export const patternCovers = (a: string, b: string): boolean => {
  if (!hasSubstitution(a) && !hasSubstitution(b)) return filterCovers(a, b);
  if (a === b) return true;
  if (a === '#') return !b.startsWith('$') && !b.startsWith('%c') && !b.startsWith('%u');
  if (!a.endsWith('/#')) return false;
  const prefix = a.slice(0, -2);
  return prefix.length > 0 && (b === prefix || b.startsWith(`${prefix}/`));
};

export type Covers = (a: string, b: string) => boolean;

/** A trie over topic levels: finds the entries that could cover a filter without trying them all. */
type TrieNode = { entries: AclEntry[]; children: Map<string, TrieNode> };
const newNode = (): TrieNode => ({ entries: [], children: new Map() });

const buildTrie = (entries: readonly AclEntry[]): TrieNode => {
  const root = newNode();
  for (const e of entries) {
    let node = root;
    for (const level of e.topic.split('/')) {
      let next = node.children.get(level);
      if (!next) node.children.set(level, (next = newNode()));
      node = next;
    }
    node.entries.push(e);
  }
  return root;
};

/**
 * Every entry whose topic could cover `levels`: level by level it holds the same text, '+' or a
 * final '#'. A superset of what filterCovers and patternCovers accept; they make the final call.
 */
const candidates = (node: TrieNode, levels: readonly string[], j: number, out: AclEntry[]): void => {
  const hash = node.children.get('#');
  if (hash) out.push(...hash.entries);
  if (j === levels.length) {
    out.push(...node.entries);
    return;
  }
  const level = levels[j] as string;
  const same = node.children.get(level);
  if (same && level !== '#') candidates(same, levels, j + 1, out);
  const plus = node.children.get('+');
  if (plus && level !== '+') candidates(plus, levels, j + 1, out);
};

/**
 * Drops every entry some other surviving entry covers (as decided by `covers`), moving its sources
 * onto the survivor. Longest topics are tried first, so of two equivalent filters (`#`, `+/#`)
 * the shorter stays.
 */
const dropCovered = (entries: AclEntry[], covers: (f: AclEntry, e: AclEntry) => boolean): AclEntry[] => {
  if (entries.length < 2) return entries;
  const alive = new Set(entries);
  const trie = buildTrie(entries);
  const order = [...entries].sort((a, b) => b.topic.length - a.topic.length || compareEntries(a, b));
  for (const e of order) {
    const found: AclEntry[] = [];
    candidates(trie, e.topic.split('/'), 0, found);
    const winner = found.find((f) => f !== e && alive.has(f) && covers(f, e));
    if (winner) {
      winner.sources.push(...e.sources);
      alive.delete(e);
    }
  }
  return entries.filter((e) => alive.has(e));
};

/**
 * Reduces one list: merges exact duplicates, drops denies covered by denies, allows covered by a
 * deny (denies are checked first, so such an allow never applies [ref §2.2]) and allows covered
 * by a broader allow. Result: denies first, then allows, each sorted by topic then access.
 */
export const reduceList = (sources: readonly AclSource[], covers: Covers = filterCovers): AclEntry[] => {
  const merged = new Map<string, AclEntry>();
  for (const s of sources) {
    const key = `${s.access}\u0000${s.topic}`;
    const entry = merged.get(key);
    if (entry) entry.sources.push(s);
    else merged.set(key, { access: s.access, topic: s.topic, sources: [s] });
  }
  const all = [...merged.values()];
  const denies = dropCovered(all.filter((e) => e.access === 'deny'), (f, e) => covers(f.topic, e.topic));
  const denyTrie = buildTrie(denies);
  const reachable = all.filter((e) => {
    if (e.access === 'deny') return false;
    const found: AclEntry[] = [];
    candidates(denyTrie, e.topic.split('/'), 0, found);
    return !found.some((d) => covers(d.topic, e.topic));
  });
  const allows = dropCovered(reachable, (f, e) => accessCovers(f.access, e.access) && covers(f.topic, e.topic));
  return [...denies.sort(compareEntries), ...allows.sort(compareEntries)];
};

/**
 * For a reduced list (reduceList's output): whether adding the line `access topic` to the list
 * it came from would leave the reduction unchanged — a deny under a deny, an allow under a deny
 * (it never applies), or an allow under a broader allow. Strictly: a line that covers its coverer
 * back (`#` and `+/#`) counts only when it is the very same line, so which of two equivalent
 * lines survives never depends on the extra one. The import keeps such lines and removes others.
 */
export const redundancyIn = (reduced: readonly AclEntry[], covers: Covers = filterCovers): ((access: Access, topic: string) => boolean) => {
  const denyTrie = buildTrie(reduced.filter((e) => e.access === 'deny'));
  const allowTrie = buildTrie(reduced.filter((e) => e.access !== 'deny'));
  return (access, topic) => {
    const levels = topic.split('/');
    const denies: AclEntry[] = [];
    candidates(denyTrie, levels, 0, denies);
    const strictly = (e: AclEntry, mutual: boolean): boolean => (e.topic === topic && e.access === access) || !mutual;
    if (access === 'deny') return denies.some((d) => covers(d.topic, topic) && strictly(d, covers(topic, d.topic)));
    if (denies.some((d) => covers(d.topic, topic))) return true;
    const allows: AclEntry[] = [];
    candidates(allowTrie, levels, 0, allows);
    return allows.some((a) => accessCovers(a.access, access) && covers(a.topic, topic)
      && strictly(a, accessCovers(access, a.access) && covers(topic, a.topic)));
  };
};

/** The service account's lines (DESIGN §6): observe everything, publish anywhere, probe. */
export const serviceAccountSources = (serviceAccount: string, generation: number): AclSource[] => {
  const principal: Principal = `user:${serviceAccount}`;
  const line = (access: Access, topic: string): AclSource => ({ principal, topic, access, source: 'service-account' });
  return [
    line('readwrite', '#'),
    line('read', '$SYS/#'),
    line('read', '$mcm/#'),
    // '#' never matches '$' topics, so this is the only line that lets it publish under $mcm.
    line('write', `$mcm/probe/${generation}`),
  ];
};

const toSource = (rule: AclRule, source: AclSourceKind): AclSource => ({
  id: rule.id,
  principal: rule.principal,
  topic: rule.topic,
  access: rule.access,
  source,
});

/** Rules by principal, each list in id order. */
export type RulesOf = (principal: string) => readonly AclRule[];

/**
 * One enabled user's reduced list: its direct rules, then each role's rules (`roles` sorted),
 * every list in id order. The full model and the incremental render (projections/) both use it,
 * so the two cannot disagree on a line.
 */
export const userAclList = (name: string, roles: readonly string[], rulesOf: RulesOf): AclEntry[] => {
  const sources = rulesOf(`user:${name}`).map((r) => toSource(r, 'direct'));
  for (const role of roles) {
    for (const r of rulesOf(`role:${role}`)) sources.push(toSource(r, `role:${role}`));
  }
  return reduceList(sources);
};

/** The anonymous list (reference §2.2: `topic` lines before the first `user` line). */
export const anonymousAclList = (rulesOf: RulesOf): AclEntry[] => reduceList(rulesOf('anonymous').map((r) => toSource(r, 'anonymous')));

/** The `pattern` list, reduced with the substitution-safe coverage. */
export const patternAclList = (rulesOf: RulesOf): AclEntry[] => reduceList(rulesOf('pattern').map((r) => toSource(r, 'pattern')), patternCovers);

export const buildAclModel = (state: BrokerConfig, opts: BuildAclModelOptions): AclModel => {
  const byPrincipal = new Map<string, AclRule[]>();
  const rules = Object.values(state.rules).sort((a, b) => a.id - b.id);
  for (const r of rules) {
    const list = byPrincipal.get(r.principal);
    if (list) list.push(r);
    else byPrincipal.set(r.principal, [r]);
  }
  const rulesOf = (p: string): AclRule[] => byPrincipal.get(p) ?? [];

  const users = new Map<string, AclEntry[]>();
  // Users holding the same roles and no direct rules get the same list: reduce it once and share it
  // (lists are read-only once built). Thousands of devices per role is the common shape.
  const byRoleSet = new Map<string, AclEntry[]>();
  const names = Object.keys(state.users)
    .filter((n) => n !== opts.serviceAccount)
    .concat(opts.serviceAccount)
    .sort(compareText);
  for (const name of names) {
    if (name === opts.serviceAccount) {
      users.set(name, reduceList(serviceAccountSources(name, opts.generation)));
      continue;
    }
    const user = state.users[name];
    if (!user || user.disabled) continue; // disabled users are absent from both files (DESIGN §6)
    const roles = [...user.roles].sort(compareText);
    const direct = rulesOf(`user:${name}`);
    const key = roles.join('\u0000');
    const shared = direct.length === 0 ? byRoleSet.get(key) : undefined;
    if (shared) {
      if (shared.length > 0 || user.passwordHash === '') users.set(name, shared);
      continue;
    }
    const list = userAclList(name, roles, rulesOf);
    if (direct.length === 0) byRoleSet.set(key, list);
    // A user without rules gets no block: the broker treats that exactly like an empty one [ref §2.2].
    // A user without a password line keeps even an empty block: it is how the file says the user
    // exists (imported from a `user` line alone), so importing the render again changes nothing.
    if (list.length > 0 || user.passwordHash === '') users.set(name, list);
  }

  return { anonymous: anonymousAclList(rulesOf), users, patterns: patternAclList(rulesOf) };
};
