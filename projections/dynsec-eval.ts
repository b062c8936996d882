/**
 * What the dynamic-security plugin of Mosquitto 2.0.11 decides for a client, an action and a
 * topic, on the model MCM puts in the plugin (projections/dynsec-model.ts): the dynsec
 * counterpart of core/explain.ts. Transcribed from the 2.0.11 sources cited on each rule
 * (src/security.c `mosquitto_acl_check`, `acl__check_dollar`, `mosquitto_unpwd_check`;
 * plugins/dynamic-security/acl.c, auth.c, rolelist.c, grouplist.c, roles.c, sub_matching.c) and
 * checked against the real broker case by case (tests/adapters/dynsec-differential.test.ts).
 */
import { topicMatches } from '../core/topic-match.ts';
import type { DefaultAclAccess, DynsecAcl, DynsecAclType, DynsecClient, DynsecGroup, DynsecModel, DynsecRole, DynsecRoleRef } from './dynsec-model.ts';

export type DynsecWho = Readonly<{ username: string }> | Readonly<{ anonymous: true }>;
/** `receive` is the broker delivering a message (live or retained) to the client. */
export type DynsecAction = 'publish' | 'subscribe' | 'unsubscribe' | 'receive';
export type DynsecVia = 'client' | `group:${string}`;
export type DynsecDecidedBy =
  | { kind: 'acl'; rolename: string; via: DynsecVia; acl: DynsecAcl }
  | { kind: 'default'; key: keyof DefaultAclAccess }
  /** The username is no client of the plugin: it defers, and with no other plugin that is a denial. */
  | { kind: 'unknown-client' }
  /** The default access allows, but a `$CONTROL…` topic never falls through to it. */
  | { kind: 'control-topic'; key: keyof DefaultAclAccess }
  /** The broker's own `$` check, made before any plugin is asked. */
  | { kind: 'broker'; rule: 'sys-publish' | 'share-topic' };
export type DynsecDecision = { allowed: boolean; decidedBy: DynsecDecidedBy; reason: string };

/**
 * C `strcmp` on UTF-8 names, which is code-point order (JS `<` compares UTF-16 units, which
 * differs above U+FFFF). rolelist.c and grouplist.c break priority ties with it.
 */
const compareBytes = (a: string, b: string): number => {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = (x[i] as string).codePointAt(0)! - (y[i] as string).codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
};

/**
 * Port of `sub_acl_check(acl, sub)` (plugins/dynamic-security/sub_matching.c, 2.0.11): may a
 * client subscribe to filter `sub` under the subscribePattern/unsubscribePattern `acl`? Unlike
 * topic matching there is no `$` rule: pattern `#` covers every filter (`$SYS/#` too) and `+/#`
 * covers `$SYS/#` and `#`. A `+` or `#` in the filter is covered only by `+`/`#` in the pattern.
 */
export const subPatternCovers = (acl: string, sub: string): boolean => {
  if (acl === '#') return true;
  // hash_check: a trailing "/#" (or a lone "#") is cut off and remembered.
  const cut = (s: string): [string, boolean] =>
    s === '#' ? ['', true] : s.length > 1 && s.endsWith('/#') ? [s.slice(0, -2), true] : [s, false];
  const [a, aclHash] = cut(acl);
  const [s, subHash] = cut(sub);
  if (subHash && !aclHash) return false;
  const al = a.split('/');
  const sl = s.split('/');
  if (al.length > sl.length) return false;
  if (sl.length > al.length && !aclHash) return false;
  // Every level of the filter: '+' or equal text in the pattern, or past the pattern's '#'.
  return sl.every((level, i) => (i < al.length ? al[i] === '+' || al[i] === level : aclHash));
};

/** A role list in the plugin's order: priority highest first, ties by rolename (rolelist.c `rolelist_cmp`). */
const ordered = (refs: readonly DynsecRoleRef[]): DynsecRoleRef[] =>
  [...refs].sort((a, b) => b.priority - a.priority || compareBytes(a.rolename, b.rolename));

/**
 * One type's ACLs of a role in the plugin's order: priority highest first; equal priorities keep
 * the order of `role.acls`, which is the order the plugin loaded or added them in (roles.c
 * `insert_acl_cmp` compares priority only, and uthash's in-order insert is stable).
 */
const aclsOf = (acls: readonly DynsecAcl[], type: DynsecAclType): DynsecAcl[] =>
  acls.filter((a) => a.acltype === type).sort((a, b) => b.priority - a.priority);

const DEFAULT_KEY: Record<DynsecAction, keyof DefaultAclAccess> = {
  publish: 'publishClientSend', receive: 'publishClientReceive', subscribe: 'subscribe', unsubscribe: 'unsubscribe',
};

/**
 * The first ACL of one role that decides (acl.c `acl_check_publish_c_send`, `…_c_recv`,
 * `acl_check_subscribe`, `acl_check_unsubscribe`). Publish and receive match the topic with
 * `mosquitto_topic_matches_sub(acl, topic)`. (Un)subscribe first looks the filter up among the
 * role's *literal* ACLs by exact string, whatever their priority, and only then walks its
 * patterns with `sub_acl_check`.
 */
const decidingAcl = (acls: readonly DynsecAcl[], action: DynsecAction, topic: string): DynsecAcl | undefined => {
  switch (action) {
    case 'publish': return aclsOf(acls, 'publishClientSend').find((a) => topicMatches(a.topic, topic));
    case 'receive': return aclsOf(acls, 'publishClientReceive').find((a) => topicMatches(a.topic, topic));
    case 'subscribe':
      return aclsOf(acls, 'subscribeLiteral').find((a) => a.topic === topic)
        ?? aclsOf(acls, 'subscribePattern').find((a) => subPatternCovers(a.topic, topic));
    case 'unsubscribe':
      return aclsOf(acls, 'unsubscribeLiteral').find((a) => a.topic === topic)
        ?? aclsOf(acls, 'unsubscribePattern').find((a) => subPatternCovers(a.topic, topic));
  }
};

const describeAcl = (acl: DynsecAcl): string => `${acl.acltype} "${acl.topic}", priority ${acl.priority}`;
/**
 * Lookups by name, built once per model: who-can asks for every client of a model of 100,000
 * (each a client and a role), so a scan per question would be quadratic. Models are read-only.
 */
type ModelIndex = {
  clients: ReadonlyMap<string, DynsecClient>;
  roles: ReadonlyMap<string, DynsecRole>;
  groups: ReadonlyMap<string, DynsecGroup>;
  groupsOf: ReadonlyMap<string, DynsecGroup[]>;
};
const indexes = new WeakMap<DynsecModel, ModelIndex>();
const indexOf = (model: DynsecModel): ModelIndex => {
  let index = indexes.get(model);
  if (index === undefined) {
    const groupsOf = new Map<string, DynsecGroup[]>();
    for (const g of model.groups) for (const c of g.clients) groupsOf.set(c, [...(groupsOf.get(c) ?? []), g]);
    index = {
      clients: new Map(model.clients.map((c) => [c.username, c])),
      roles: new Map(model.roles.map((r) => [r.rolename, r])),
      groups: new Map(model.groups.map((g) => [g.groupname, g])),
      groupsOf,
    };
    indexes.set(model, index);
  }
  return index;
};

const groupOf = (via: DynsecVia): string | null => (via === 'client' ? null : via.slice('group:'.length));

/**
 * The role lists the plugin walks (acl.c `acl_check`): for a username, the client's own roles,
 * then each of its groups' roles, groups by membership priority then groupname (grouplist.c
 * `dynsec_grouplist__cmp`; the model has no membership priority, so every group has the
 * plugin's default -1 and they go by name); without a username, only the anonymous group's.
 */
const roleLists = (model: DynsecModel, who: DynsecWho): { via: DynsecVia; refs: readonly DynsecRoleRef[] }[] | null => {
  const index = indexOf(model);
  if ('anonymous' in who) {
    const group = index.groups.get(model.anonymousGroup);
    return group ? [{ via: `group:${group.groupname}`, refs: group.roles }] : [];
  }
  const client = index.clients.get(who.username);
  if (!client) return null;
  const groups = (index.groupsOf.get(who.username) ?? []).slice().sort((a, b) => compareBytes(a.groupname, b.groupname));
  return [{ via: 'client', refs: client.roles }, ...groups.map((g) => ({ via: `group:${g.groupname}` as const, refs: g.roles }))];
};

export const evaluateDynsec = (model: DynsecModel, who: DynsecWho, action: DynsecAction, topic: string): DynsecDecision => {
  // security.c `acl__check_dollar`, before any plugin: no client publishes under "$SYS" (a
  // prefix test, so "$SYSTEM/x" too) except a bridge's "$SYS/broker/connection/+/state"; a topic
  // starting "$share" is only ever subscribed or unsubscribed, never published or delivered.
  if (action === 'publish' && topic.startsWith('$SYS') && !topicMatches('$SYS/broker/connection/+/state', topic)) {
    return { allowed: false, decidedBy: { kind: 'broker', rule: 'sys-publish' }, reason: `denied by the broker before any plugin: clients never publish under $SYS (only $SYS/broker/connection/+/state)` };
  }
  if ((action === 'publish' || action === 'receive') && topic.startsWith('$share')) {
    return { allowed: false, decidedBy: { kind: 'broker', rule: 'share-topic' }, reason: `denied by the broker before any plugin: a "$share" topic is only for subscribe and unsubscribe` };
  }
  const lists = roleLists(model, who);
  if (lists === null) {
    // acl.c: a username the plugin doesn't know → MOSQ_ERR_PLUGIN_DEFER, without looking at the
    // default access; security.c: when every plugin defers, the check is a denial.
    const name = 'username' in who ? who.username : '';
    return { allowed: false, decidedBy: { kind: 'unknown-client' }, reason: `denied: "${name}" is no client of the dynamic-security plugin, so it defers and the broker denies` };
  }
  const { roles } = indexOf(model);
  for (const { via, refs } of lists) {
    for (const ref of ordered(refs)) {
      const role = roles.get(ref.rolename);
      if (!role) continue; // the plugin drops a reference to a role it doesn't have
      const acl = decidingAcl(role.acls, action, topic);
      if (!acl) continue;
      const group = groupOf(via);
      const where = group === null ? '' : group === model.anonymousGroup && 'anonymous' in who ? ` of the anonymous group "${group}"` : ` of group "${group}"`;
      return {
        allowed: acl.allow, decidedBy: { kind: 'acl', rolename: role.rolename, via, acl },
        reason: `${acl.allow ? 'allowed' : 'denied'} by role "${role.rolename}"${where} (${describeAcl(acl)})`,
      };
    }
  }
  // acl.c `acl_check`: no ACL matched. A false default defers (→ denied); a true one allows,
  // except that "$CONTROL…" topics (a prefix test, so "$CONTROLLER/x" too) never fall through,
  // for every action: even MCM's `unsubscribe: true` default refuses unsubscribing `$CONTROL/#`.
  const key = DEFAULT_KEY[action];
  const allowed = model.defaultACLAccess[key];
  if (allowed && topic.startsWith('$CONTROL')) {
    return { allowed: false, decidedBy: { kind: 'control-topic', key }, reason: `denied: no ACL matches, and $CONTROL topics never fall through to the default access (${key}: true)` };
  }
  return { allowed, decidedBy: { kind: 'default', key }, reason: `${allowed ? 'allowed' : 'denied'} by the default access (${key}: ${allowed}): no ACL matches` };
};

export type DynsecListener = Readonly<{ allowAnonymous: boolean }>;

/**
 * May this client connect at all (given the right password)? security.c `mosquitto_unpwd_check`
 * and dynsec auth.c: a client without a username connects only when the listener has
 * `allow_anonymous true` (the anonymous group then gives its rights; with `false` it is refused
 * however the plugin is set up; 2.0's default is false); a username the plugin doesn't know, or
 * a client without a password, makes the plugin defer, which refuses the login; a disabled client
 * is refused.
 */
export const canConnect = (model: DynsecModel, who: DynsecWho, listener: DynsecListener = { allowAnonymous: false }): { ok: boolean; reason: string } => {
  if ('anonymous' in who) {
    return listener.allowAnonymous
      ? { ok: true, reason: `anonymous clients may connect (allow_anonymous true)${model.anonymousGroup ? ` and get the rights of group "${model.anonymousGroup}"` : ''}` }
      : { ok: false, reason: 'anonymous clients are refused: allow_anonymous is false, and the anonymous group does not change that' };
  }
  const client = indexOf(model).clients.get(who.username);
  if (!client) return { ok: false, reason: `"${who.username}" is no client of the dynamic-security plugin: the login is refused` };
  if (client.disabled) return { ok: false, reason: `client "${who.username}" is disabled: the login is refused` };
  if (client.passwordHash === '') return { ok: false, reason: `client "${who.username}" has no password: the plugin defers and the login is refused` };
  return { ok: true, reason: `client "${who.username}" may connect with its password` };
};
