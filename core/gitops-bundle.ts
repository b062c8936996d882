/**
 * The GitOps bundle (DESIGN §1 "GitOps dir"): the desired broker configuration as a plain,
 * sorted object model, one section per YAML file. It names things, never ids: rule and schema
 * ids are assigned per data dir, so a rule is identified by (principal, topic, access) and a
 * schema by its name. The broker configuration (broker.yaml) names its certificates and bridge
 * passwords, never holds them (core/gitops-broker.ts). Webhooks (without their secrets) will be
 * one more section.
 *
 * `bundleProblems` checks what the file schema can't (names, topic filters, hashes, references
 * between sections, duplicates) and lists every problem; `sortBundle` gives the canonical order
 * that export writes, so an export diff shows only what changed.
 */
import { ACCESS_VALUES, type Access } from './acl-types.ts';
import { canonicalJson } from './canonical-json.ts';
import { assertMosquittoHash } from './decide/guards.ts';
import { SCHEMA_NAME_MAX } from './decide/schemas.ts';
import { MAX_HASH_ITERATIONS } from './decide/settings.ts';
import { byCodeUnit, put } from './evolve/records.ts';
import { brokerSectionProblems } from './gitops-broker.ts';
import { descriptionViolation, roleNameViolation, usernameViolation } from './names.ts';
import { DEFAULT_HASH_ITERATIONS } from './state.ts';
import { topicFilterProblem } from './topic-filter.ts';

export const GITOPS_FORMAT_VERSION = 1;

/** In file order; each is `<section>.yaml` in a GitOps dir. */
export const GITOPS_SECTIONS = ['settings', 'users', 'roles', 'acls', 'schemas', 'broker'] as const;
export type GitopsSection = (typeof GITOPS_SECTIONS)[number];

export type GitopsSettings = { allow_anonymous: boolean; hash_iterations: number };
export type GitopsUser = { username: string; password_hash: string; description: string; disabled: boolean; roles: string[] };
export type GitopsRule = { topic: string; access: Access; description: string };
export type GitopsRole = { name: string; description: string; rules: GitopsRule[] };
/** A rule whose principal is not a role (role rules live under their role). */
export type GitopsAclPrincipal = 'anonymous' | 'pattern' | `user:${string}`;
export type GitopsAcl = { principal: GitopsAclPrincipal; topic: string; access: Access; description: string };
export type GitopsSchema = { name: string; topic_filter: string; enabled: boolean; description: string; schema: unknown };
/**
 * The broker configuration exactly in the model's shape (core/broker-config/model.ts), so its
 * keys are camelCase as in the broker API and `mcm broker plan -f`; option names are
 * mosquitto.conf's. Read from a file it may leave out defaults: the plan fills them in with
 * validateBrokerConfig, which checks the items.
 */
export type GitopsBroker = { listeners: unknown[]; options: Record<string, unknown>; bridges: unknown[]; passthrough: string[] };

export type GitopsBundle = {
  version: typeof GITOPS_FORMAT_VERSION;
  settings: GitopsSettings;
  users: GitopsUser[];
  roles: GitopsRole[];
  acls: GitopsAcl[];
  schemas: GitopsSchema[];
  broker: GitopsBroker;
};

/** One problem, located by a JSON pointer into the bundle (equal to the pointer into its file). */
export type GitopsProblem = { section: GitopsSection; path: string; message: string };

/** Settings of an empty data dir: what a missing settings.yaml means. */
export const DEFAULT_GITOPS_SETTINGS: Readonly<GitopsSettings> = { allow_anonymous: false, hash_iterations: DEFAULT_HASH_ITERATIONS };

export const emptyBundle = (): GitopsBundle => ({
  version: GITOPS_FORMAT_VERSION,
  settings: { ...DEFAULT_GITOPS_SETTINGS },
  users: [],
  roles: [],
  acls: [],
  schemas: [],
  broker: { listeners: [], options: {}, bridges: [], passthrough: [] },
});

const ACCESS_ORDER: Readonly<Record<Access, number>> = { read: 0, write: 1, readwrite: 2, deny: 3 };

const byRule = (a: { topic: string; access: Access }, b: { topic: string; access: Access }): number =>
  byCodeUnit(a.topic, b.topic) || ACCESS_ORDER[a.access] - ACCESS_ORDER[b.access];

/** Identity of a rule inside one principal (as core/decide/guards.ts ruleKey). */
export const gitopsRuleKey = (r: { topic: string; access: Access }): string => `${r.access} ${r.topic}`;
export const gitopsAclKey = (r: { principal: string; topic: string; access: Access }): string => `${r.principal}\u0000${r.access} ${r.topic}`;

/**
 * A JSON value with every object's keys in code-unit order (arrays keep theirs): JSON Schema
 * gives key order no meaning, and a fixed order keeps exports byte-stable. Keys such as
 * `__proto__` are kept as own properties.
 */
export const sortKeysDeep = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(sortKeysDeep);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort(byCodeUnit)) put(out, key, sortKeysDeep((value as Record<string, unknown>)[key]));
  return out;
};

const bySchema = (a: GitopsSchema, b: GitopsSchema): number =>
  byCodeUnit(a.name, b.name) || byCodeUnit(a.topic_filter, b.topic_filter) ||
  byCodeUnit(canonicalJson(a.schema), canonicalJson(b.schema)) ||
  Number(a.enabled) - Number(b.enabled) || byCodeUnit(a.description, b.description);

/**
 * The canonical form: every list sorted, user roles deduplicated, schema keys sorted. A copy.
 * Listeners, bridges and passthrough lines keep their order: mosquitto.conf is rendered in it.
 */
export const sortBundle = (b: GitopsBundle): GitopsBundle => ({
  version: GITOPS_FORMAT_VERSION,
  settings: { allow_anonymous: b.settings.allow_anonymous, hash_iterations: b.settings.hash_iterations },
  users: b.users
    .map((u) => ({
      username: u.username,
      password_hash: u.password_hash,
      description: u.description,
      disabled: u.disabled,
      roles: [...new Set(u.roles)].sort(byCodeUnit),
    }))
    .sort((x, y) => byCodeUnit(x.username, y.username)),
  roles: b.roles
    .map((r) => ({
      name: r.name,
      description: r.description,
      rules: r.rules.map((x) => ({ topic: x.topic, access: x.access, description: x.description })).sort(byRule),
    }))
    .sort((x, y) => byCodeUnit(x.name, y.name)),
  acls: b.acls
    .map((a) => ({ principal: a.principal, topic: a.topic, access: a.access, description: a.description }))
    .sort((x, y) => byCodeUnit(x.principal, y.principal) || byRule(x, y)),
  schemas: b.schemas
    .map((s) => ({ name: s.name, topic_filter: s.topic_filter, enabled: s.enabled, description: s.description, schema: sortKeysDeep(s.schema) }))
    .sort(bySchema),
  broker: {
    listeners: structuredClone(b.broker.listeners),
    options: sortKeysDeep(b.broker.options) as Record<string, unknown>,
    bridges: structuredClone(b.broker.bridges),
    passthrough: [...b.broker.passthrough],
  },
});

const isAccess = (v: unknown): v is Access => typeof v === 'string' && (ACCESS_VALUES as readonly string[]).includes(v);

const hashProblem = (value: unknown): string | null => {
  try {
    assertMosquittoHash(value, 'password_hash');
    return null;
  } catch (e) {
    return (e as Error).message;
  }
};

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/u;

export type BundleCheckOptions = Readonly<{
  /** MCM's own MQTT account: never managed as an MQTT user (MCM_ERR_USERNAME_RESERVED over HTTP). */
  serviceAccount: string;
}>;

/**
 * Every semantic problem of a bundle whose shape is already valid (the adapter checks the shape
 * with its JSON Schema first). Empty when the bundle can be planned.
 */
export const bundleProblems = (b: GitopsBundle, opts: BundleCheckOptions): GitopsProblem[] => {
  const problems: GitopsProblem[] = [];
  const add = (section: GitopsSection, path: string, message: string): void => { problems.push({ section, path, message }); };

  const it = b.settings.hash_iterations;
  if (!Number.isInteger(it) || it < 1 || it > MAX_HASH_ITERATIONS) {
    add('settings', '/settings/hash_iterations', `hash_iterations must be an integer from 1 to ${MAX_HASH_ITERATIONS}`);
  }

  const roleNames = new Set<string>();
  b.roles.forEach((r, i) => {
    const at = `/roles/${i}`;
    const v = roleNameViolation(r.name);
    if (v) add('roles', `${at}/name`, v.message);
    else if (roleNames.has(r.name)) add('roles', `${at}/name`, `role "${r.name}" is listed more than once`);
    roleNames.add(r.name);
    const d = descriptionViolation(r.description);
    if (d) add('roles', `${at}/description`, d.message);
    const keys = new Set<string>();
    r.rules.forEach((rule, j) => {
      const rat = `${at}/rules/${j}`;
      const tp = topicFilterProblem(rule.topic);
      if (tp) add('roles', `${rat}/topic`, tp);
      if (!isAccess(rule.access)) add('roles', `${rat}/access`, `access must be one of ${ACCESS_VALUES.join(', ')}`);
      const rd = descriptionViolation(rule.description);
      if (rd) add('roles', `${rat}/description`, rd.message);
      const key = gitopsRuleKey(rule);
      if (keys.has(key)) add('roles', rat, `role "${r.name}" has the rule "${rule.access} ${rule.topic}" more than once`);
      keys.add(key);
    });
  });

  const usernames = new Set<string>();
  b.users.forEach((u, i) => {
    const at = `/users/${i}`;
    const v = usernameViolation(u.username);
    if (v) add('users', `${at}/username`, v.message);
    else if (u.username === opts.serviceAccount) {
      add('users', `${at}/username`, `"${u.username}" is MCM's service account and cannot be managed as an MQTT user`);
    } else if (usernames.has(u.username)) add('users', `${at}/username`, `user "${u.username}" is listed more than once`);
    usernames.add(u.username);
    const hp = hashProblem(u.password_hash);
    if (hp) add('users', `${at}/password_hash`, hp);
    const d = descriptionViolation(u.description);
    if (d) add('users', `${at}/description`, d.message);
    const seen = new Set<string>();
    u.roles.forEach((role, j) => {
      if (seen.has(role)) add('users', `${at}/roles/${j}`, `role "${role}" is listed more than once`);
      else if (!roleNames.has(role)) add('users', `${at}/roles/${j}`, `role "${role}" is not defined in roles.yaml`);
      seen.add(role);
    });
  });

  const aclKeys = new Set<string>();
  b.acls.forEach((a, i) => {
    const at = `/acls/${i}`;
    const p = a.principal as string;
    if (p.startsWith('role:')) {
      add('acls', `${at}/principal`, `rules of a role belong under the role in roles.yaml, not in acls.yaml (${p})`);
    } else if (p.startsWith('user:')) {
      if (!usernames.has(p.slice(5))) add('acls', `${at}/principal`, `user "${p.slice(5)}" is not defined in users.yaml`);
    } else if (p !== 'anonymous' && p !== 'pattern') {
      add('acls', `${at}/principal`, 'principal must be "user:<username>", "anonymous" or "pattern"');
    }
    const tp = topicFilterProblem(a.topic);
    if (tp) add('acls', `${at}/topic`, tp);
    if (!isAccess(a.access)) add('acls', `${at}/access`, `access must be one of ${ACCESS_VALUES.join(', ')}`);
    const d = descriptionViolation(a.description);
    if (d) add('acls', `${at}/description`, d.message);
    const key = gitopsAclKey(a);
    if (aclKeys.has(key)) add('acls', at, `${p} has the rule "${a.access} ${a.topic}" more than once`);
    aclKeys.add(key);
  });

  b.schemas.forEach((s, i) => {
    const at = `/schemas/${i}`;
    const length = [...s.name].length;
    if (length === 0 || length > SCHEMA_NAME_MAX || CONTROL.test(s.name)) {
      add('schemas', `${at}/name`, `schema name must be 1 to ${SCHEMA_NAME_MAX} characters without control characters`);
    }
    const tp = topicFilterProblem(s.topic_filter);
    if (tp) add('schemas', `${at}/topic_filter`, tp);
    const d = descriptionViolation(s.description);
    if (d) add('schemas', `${at}/description`, d.message);
  });

  problems.push(...brokerSectionProblems(b.broker));
  return problems;
};
