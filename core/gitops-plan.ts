/**
 * GitOps plan (DESIGN §1): the difference between the current state and a bundle, as ordinary
 * commands (so the same decide rules apply, STYLE principle 2) and as changes a person can read,
 * including who gains or loses which topic access. Pure.
 *
 * Command order is one decide accepts: settings; roles defined or updated (so users can be
 * granted them); users created, changed, deleted (a deleted user's direct rules go with it);
 * other ACL rules removed, changed, added (users exist by now); roles deleted last (their grants
 * are gone by then, and their rules go with them); schemas; the broker configuration, as one
 * SetBrokerConfig (core/gitops-broker.ts).
 */
import type { Access, AclRule } from './acl-types.ts';
import { canonicalJson } from './canonical-json.ts';
import type { Command } from './commands.ts';
import type { ApplyBy } from './broker-config/catalog.ts';
import { DomainError, ERROR_CODES } from './errors.ts';
import { byCodeUnit, own } from './evolve/records.ts';
import { planBroker, type BrokerPlanOptions } from './gitops-broker.ts';
import {
  bundleProblems, gitopsAclKey, gitopsRuleKey, sortBundle,
  type BundleCheckOptions, type GitopsBundle, type GitopsProblem, type GitopsSchema,
} from './gitops-bundle.ts';
import { accessChanges, type AccessItem } from './gitops-access.ts';
import { simulateBatch } from './handle-batch.ts';
import type { BrokerConfig, JsonSchemaDef } from './state.ts';

export type { AccessItem };
export { formatPlan } from './gitops-plan-format.ts';

export type FromTo<T> = { from: T; to: T };
export type RuleRef = { topic: string; access: Access };

export type PlanChange =
  | { type: 'settings_changed'; field: 'allow_anonymous' | 'hash_iterations'; from: boolean | number; to: boolean | number }
  | { type: 'role_added'; name: string; rules: number }
  | { type: 'role_removed'; name: string }
  | {
    type: 'role_changed'; name: string; description?: FromTo<string>;
    rules_added: RuleRef[]; rules_removed: RuleRef[]; rules_redescribed: RuleRef[];
  }
  | { type: 'user_added'; username: string; roles: string[]; disabled: boolean }
  | { type: 'user_removed'; username: string }
  | {
    type: 'user_changed'; username: string; password_rotated: boolean;
    description?: FromTo<string>; disabled?: FromTo<boolean>; roles_granted: string[]; roles_revoked: string[];
  }
  | { type: 'acl_added' | 'acl_removed'; principal: string; topic: string; access: Access }
  | { type: 'acl_changed'; principal: string; topic: string; access: Access; description: FromTo<string> }
  | { type: 'schema_added' | 'schema_removed'; name: string; topic_filter: string }
  | { type: 'schema_changed'; name: string; fields: ('topic_filter' | 'schema' | 'enabled' | 'description')[] }
  /** what: `listener <name>`, `option <name>`, `bridge <name>`, `passthrough`, `order of listeners`; apply: how the broker takes it. */
  | { type: 'broker_added' | 'broker_changed' | 'broker_removed'; what: string; apply: ApplyBy }
  /** subject: `user:<name>`, `anonymous` or `pattern`; effective lines of the rendered ACL. */
  | { type: 'access_changed'; subject: string; gains: AccessItem[]; losses: AccessItem[] };

export type GitopsPlan = { commands: Command[]; changes: PlanChange[] };
export type PlanOptions = BundleCheckOptions & BrokerPlanOptions;

/** Every problem in the message too (the CLI prints only the message), each with its file. */
export const invalidBundle = (problems: readonly GitopsProblem[]): DomainError =>
  new DomainError(
    ERROR_CODES.GITOPS_INVALID,
    `the GitOps bundle has ${problems.length} problem${problems.length === 1 ? '' : 's'}, nothing was changed:\n` +
      problems.map((p) => `  ${p.section}.yaml ${p.path}: ${p.message}`).join('\n'),
    problems.map((p) => ({ file: `${p.section}.yaml`, ...p })),
  );

/** A principal's rules keyed by (topic, access); of equal rules (never created) the lowest id. */
const rulesByPrincipal = (state: BrokerConfig): Map<string, Map<string, AclRule>> => {
  const out = new Map<string, Map<string, AclRule>>();
  for (const r of Object.values(state.rules).sort((a, b) => a.id - b.id)) {
    let m = out.get(r.principal);
    if (!m) out.set(r.principal, (m = new Map()));
    const key = gitopsRuleKey(r);
    if (!m.has(key)) m.set(key, r);
  }
  return out;
};

const sameSchema = (c: JsonSchemaDef, w: GitopsSchema): boolean =>
  c.topicFilter === w.topic_filter && c.enabled === w.enabled && c.description === w.description &&
  canonicalJson(c.schema) === canonicalJson(w.schema);

type Acc = { commands: Command[]; changes: PlanChange[] };

const planSettings = (state: BrokerConfig, want: GitopsBundle, acc: Acc): void => {
  const data: { allowAnonymous?: boolean; hashIterations?: number } = {};
  const { allow_anonymous: anon, hash_iterations: iterations } = want.settings;
  if (anon !== state.settings.allowAnonymous) {
    data.allowAnonymous = anon;
    acc.changes.push({ type: 'settings_changed', field: 'allow_anonymous', from: state.settings.allowAnonymous, to: anon });
  }
  if (iterations !== state.settings.hashIterations) {
    data.hashIterations = iterations;
    acc.changes.push({ type: 'settings_changed', field: 'hash_iterations', from: state.settings.hashIterations, to: iterations });
  }
  if (Object.keys(data).length > 0) acc.commands.push({ type: 'ChangeSettings', data });
};

const planRoles = (state: BrokerConfig, want: GitopsBundle, rules: Map<string, Map<string, AclRule>>, acc: Acc): void => {
  for (const r of want.roles) {
    const specs = r.rules.map((x) => ({ topic: x.topic, access: x.access, description: x.description }));
    const current = own(state.roles, r.name);
    if (!current) {
      acc.commands.push({ type: 'DefineRole', data: { name: r.name, description: r.description, rules: specs } });
      acc.changes.push({ type: 'role_added', name: r.name, rules: r.rules.length });
      continue;
    }
    const existing = rules.get(`role:${r.name}`) ?? new Map<string, AclRule>();
    const wanted = new Set(r.rules.map(gitopsRuleKey));
    const ref = (x: RuleRef): RuleRef => ({ topic: x.topic, access: x.access });
    const added = r.rules.filter((x) => !existing.has(gitopsRuleKey(x))).map(ref);
    const removed = [...existing.values()].filter((x) => !wanted.has(gitopsRuleKey(x))).map(ref);
    const redescribed = r.rules.filter((x) => {
      const kept = existing.get(gitopsRuleKey(x));
      return kept !== undefined && kept.description !== x.description;
    }).map(ref);
    const described = current.description !== r.description;
    if (!described && added.length + removed.length + redescribed.length === 0) continue;
    acc.commands.push({ type: 'UpdateRole', data: { name: r.name, description: r.description, rules: specs } });
    acc.changes.push({
      type: 'role_changed', name: r.name,
      ...(described ? { description: { from: current.description, to: r.description } } : {}),
      rules_added: added, rules_removed: removed, rules_redescribed: redescribed,
    });
  }
};

const planUsers = (state: BrokerConfig, want: GitopsBundle, acc: Acc): Set<string> => {
  for (const u of want.users) {
    const current = own(state.users, u.username);
    if (!current) {
      acc.commands.push({
        type: 'CreateMqttUser',
        data: { username: u.username, passwordHash: u.password_hash, description: u.description, roles: u.roles, disabled: u.disabled },
      });
      acc.changes.push({ type: 'user_added', username: u.username, roles: u.roles, disabled: u.disabled });
      continue;
    }
    const rotated = current.passwordHash !== u.password_hash;
    if (rotated) acc.commands.push({ type: 'ChangeMqttUserPassword', data: { username: u.username, passwordHash: u.password_hash } });
    const granted = u.roles.filter((r) => !current.roles.includes(r));
    const revoked = current.roles.filter((r) => !u.roles.includes(r)).sort(byCodeUnit);
    const described = current.description !== u.description;
    const toggled = current.disabled !== u.disabled;
    if (described || toggled || granted.length + revoked.length > 0) {
      acc.commands.push({ type: 'UpdateMqttUser', data: { username: u.username, description: u.description, roles: u.roles, disabled: u.disabled } });
    }
    if (rotated || described || toggled || granted.length + revoked.length > 0) {
      acc.changes.push({
        type: 'user_changed', username: u.username, password_rotated: rotated,
        ...(described ? { description: { from: current.description, to: u.description } } : {}),
        ...(toggled ? { disabled: { from: current.disabled, to: u.disabled } } : {}),
        roles_granted: granted, roles_revoked: revoked,
      });
    }
  }
  const wanted = new Set(want.users.map((u) => u.username));
  const removed = new Set(Object.keys(state.users).filter((n) => !wanted.has(n)).sort(byCodeUnit));
  for (const username of removed) {
    acc.commands.push({ type: 'DeleteMqttUser', data: { username } });
    acc.changes.push({ type: 'user_removed', username });
  }
  return removed;
};

const planAcls = (state: BrokerConfig, want: GitopsBundle, removedUsers: ReadonlySet<string>, acc: Acc): void => {
  const current = new Map<string, AclRule>();
  const extra: AclRule[] = [];
  for (const r of Object.values(state.rules).sort((a, b) => a.id - b.id)) {
    if (r.principal.startsWith('role:')) continue;
    const key = gitopsAclKey(r);
    if (current.has(key)) extra.push(r);
    else current.set(key, r);
  }
  const wanted = new Map(want.acls.map((a) => [gitopsAclKey(a), a]));
  const removed = [...current.values()].filter((r) => !wanted.has(gitopsAclKey(r)));
  for (const r of [...removed, ...extra].sort((a, b) => a.id - b.id)) {
    // DeleteMqttUser removes the user's direct rules in its own append (DESIGN §5).
    if (!(r.principal.startsWith('user:') && removedUsers.has(r.principal.slice(5)))) {
      acc.commands.push({ type: 'RemoveAclRule', data: { id: r.id } });
    }
  }
  for (const r of removed) acc.changes.push({ type: 'acl_removed', principal: r.principal, topic: r.topic, access: r.access });
  for (const a of want.acls) {
    const r = current.get(gitopsAclKey(a));
    if (r && r.description !== a.description) {
      acc.commands.push({ type: 'ChangeAclRule', data: { id: r.id, description: a.description } });
      acc.changes.push({ type: 'acl_changed', principal: a.principal, topic: a.topic, access: a.access, description: { from: r.description, to: a.description } });
    }
  }
  for (const a of want.acls) {
    if (current.has(gitopsAclKey(a))) continue;
    acc.commands.push({ type: 'AddAclRule', data: { principal: a.principal, topic: a.topic, access: a.access, description: a.description } });
    acc.changes.push({ type: 'acl_added', principal: a.principal, topic: a.topic, access: a.access });
  }
};

const planRoleDeletions = (state: BrokerConfig, want: GitopsBundle, acc: Acc): void => {
  const wanted = new Set(want.roles.map((r) => r.name));
  for (const name of Object.keys(state.roles).filter((n) => !wanted.has(n)).sort(byCodeUnit)) {
    acc.commands.push({ type: 'DeleteRole', data: { name } });
    acc.changes.push({ type: 'role_removed', name });
  }
};

/**
 * Schemas are matched by name. Names need not be unique, so within a name identical definitions
 * pair first, then the rest pair in order (changed), and what is left is detached or attached.
 */
const planSchemas = (state: BrokerConfig, want: GitopsBundle, acc: Acc): void => {
  const current = Object.values(state.schemas).sort((a, b) => a.id - b.id);
  const names = [...new Set([...current.map((s) => s.name), ...want.schemas.map((s) => s.name)])].sort(byCodeUnit);
  const detach: Command[] = [];
  const change: Command[] = [];
  const attach: Command[] = [];
  for (const name of names) {
    const cs = current.filter((s) => s.name === name);
    const ws = want.schemas.filter((s) => s.name === name);
    const unmatched = ws.filter((w) => {
      const i = cs.findIndex((c) => sameSchema(c, w));
      if (i < 0) return true;
      cs.splice(i, 1);
      return false;
    });
    unmatched.forEach((w, i) => {
      const c = cs[i];
      if (!c) {
        attach.push({ type: 'AttachSchema', data: { name, topicFilter: w.topic_filter, schema: w.schema, enabled: w.enabled, description: w.description } });
        acc.changes.push({ type: 'schema_added', name, topic_filter: w.topic_filter });
        return;
      }
      change.push({ type: 'ChangeSchema', data: { id: c.id, topicFilter: w.topic_filter, schema: w.schema, enabled: w.enabled, description: w.description } });
      const fields: ('topic_filter' | 'schema' | 'enabled' | 'description')[] = [];
      if (c.topicFilter !== w.topic_filter) fields.push('topic_filter');
      if (canonicalJson(c.schema) !== canonicalJson(w.schema)) fields.push('schema');
      if (c.enabled !== w.enabled) fields.push('enabled');
      if (c.description !== w.description) fields.push('description');
      acc.changes.push({ type: 'schema_changed', name, fields });
    });
    for (const c of cs.slice(unmatched.length)) {
      detach.push({ type: 'DetachSchema', data: { id: c.id } });
      acc.changes.push({ type: 'schema_removed', name, topic_filter: c.topicFilter });
    }
  }
  acc.commands.push(...detach, ...change, ...attach);
};

/** Changes shown in this order: settings, roles, users, ACL rules, schemas, broker configuration, then access. */
const SHOW_ORDER: Readonly<Record<PlanChange['type'], number>> = {
  settings_changed: 0, role_added: 1, role_changed: 1, role_removed: 1, user_added: 2, user_changed: 2, user_removed: 2,
  acl_added: 3, acl_changed: 3, acl_removed: 3, schema_added: 4, schema_changed: 4, schema_removed: 4,
  broker_added: 5, broker_changed: 5, broker_removed: 5, access_changed: 6,
};

/**
 * The commands that turn `state` into what `bundle` describes, and the changes they make.
 * Throws MCM_ERR_GITOPS_INVALID listing every problem of an inconsistent bundle, or the
 * DomainError of the first command decide would refuse. No commands: nothing to do.
 */
export const planBundle = (state: BrokerConfig, bundle: GitopsBundle, opts: PlanOptions): GitopsPlan => {
  const problems = bundleProblems(bundle, opts);
  if (problems.length > 0) throw invalidBundle(problems);
  const want = sortBundle(bundle);
  // Certificates and bridge passwords must be in this data dir: checked before anything is planned.
  const broker = planBroker(state, want.broker, opts);
  if (broker.problems.length > 0) throw invalidBundle(broker.problems);
  const rules = rulesByPrincipal(state);
  const acc: Acc = { commands: [], changes: [] };
  planSettings(state, want, acc);
  planRoles(state, want, rules, acc);
  const removedUsers = planUsers(state, want, acc);
  planAcls(state, want, removedUsers, acc);
  planRoleDeletions(state, want, acc);
  planSchemas(state, want, acc);
  acc.commands.push(...broker.commands);
  acc.changes.push(...broker.changes);
  if (acc.commands.length === 0) return { commands: [], changes: [] };
  // Deciding the batch on a copy proves decide accepts it and yields the state to compare access with.
  const ctx = { serviceAccount: opts.serviceAccount, ...(opts.broker === undefined ? {} : { broker: opts.broker }) };
  const after = simulateBatch(acc.commands, state, ctx).state;
  const changes = acc.changes
    .map((c, i) => ({ c, i }))
    .sort((a, b) => SHOW_ORDER[a.c.type] - SHOW_ORDER[b.c.type] || a.i - b.i)
    .map(({ c }) => c);
  return { commands: acc.commands, changes: [...changes, ...accessChanges(state, after, opts.serviceAccount)] };
};
