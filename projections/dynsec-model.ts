/**
 * The dynamic-security plugin's view of the desired state (issue 15, reference §6): what the
 * plugin must hold for the broker to enforce MCM's users, roles and rules without a reload.
 *
 * The mapping, chosen so it loses nothing and never collides with an operator's names (MCM role
 * names are `[A-Za-z0-9._-]`, so a name with ':' is MCM's own):
 * - an MCM user → a client; its granted roles → client roles (priority 0);
 * - a user's own rules → the role `user:<username>`, granted to it with priority 1, so they are
 *   checked before its roles' rules (dynsec evaluates a client's roles by priority, highest
 *   first, and the first matching ACL decides — reference §6.2);
 * - an MCM role → a dynsec role of the same name;
 * - `anonymous` rules → role `mcm:anonymous` in group `mcm:anonymous`, always the anonymous group;
 * - the service account → client with role `mcm:service` (observe, publish, administer the
 *   plugin); its probe → client `<service account>:probe` with role `mcm:probe` (publish
 *   under `$mcm/probe/` only: the enforcement probe's account).
 * Each rule's access maps to ACLs: `read` → subscribePattern + publishClientReceive, `write` →
 * publishClientSend, `readwrite` → all three, `deny` → all three with `allow: false`. Within a
 * role a deny has priority 1 and an allow 0, so the role's denies are checked first, as an ACL
 * file checks a user's denies first (reference §2.3).
 * The default access denies sending, subscribing and receiving, so a client receives only what a
 * read rule allows, as with an ACL file (reference §2.4); unsubscribing stays allowed.
 * `pattern` rules cannot be expressed on 2.0 (the plugin substitutes no %c/%u): they are listed
 * in `unsupported`, and the apply refuses the state with that reason.
 */
import type { Access, AclRule } from '../core/acl-types.ts';
import type { BrokerConfig } from '../core/state.ts';
import { compareText } from '../core/acl-model.ts';

export type DynsecAclType = 'publishClientSend' | 'publishClientReceive' | 'subscribeLiteral' | 'subscribePattern' | 'unsubscribeLiteral' | 'unsubscribePattern';
export type DynsecAcl = Readonly<{ acltype: DynsecAclType; topic: string; priority: number; allow: boolean }>;
export type DynsecRoleRef = Readonly<{ rolename: string; priority: number }>;
export type DynsecRole = Readonly<{ rolename: string; textdescription: string; acls: readonly DynsecAcl[] }>;
export type DynsecClient = Readonly<{
  username: string;
  textdescription: string;
  disabled: boolean;
  roles: readonly DynsecRoleRef[];
  /** MCM's `$7$` hash (never a plaintext); '' when the user has no password. */
  passwordHash: string;
}>;
export type DynsecGroup = Readonly<{ groupname: string; roles: readonly DynsecRoleRef[]; clients: readonly string[] }>;
export type DefaultAclAccess = Readonly<{ publishClientSend: boolean; publishClientReceive: boolean; subscribe: boolean; unsubscribe: boolean }>;

export type DynsecModel = Readonly<{
  defaultACLAccess: DefaultAclAccess;
  /** Sorted by username. */
  clients: readonly DynsecClient[];
  /** Sorted by rolename; each role's ACLs in canonical order (dynsecAclKey). */
  roles: readonly DynsecRole[];
  groups: readonly DynsecGroup[];
  anonymousGroup: string;
  /** Rules the plugin cannot express, with why: the apply refuses a state that has any. */
  unsupported: readonly { rule: number; reason: string }[];
}>;

export const USER_ROLE_PREFIX = 'user:';
export const SERVICE_ROLE = 'mcm:service';
export const PROBE_ROLE = 'mcm:probe';
export const ANONYMOUS_ROLE = 'mcm:anonymous';
export const ANONYMOUS_GROUP = 'mcm:anonymous';
export const DIRECT_RULES_PRIORITY = 1;
export const ROLE_PRIORITY = 0;
const DENY_PRIORITY = 1;
const ALLOW_PRIORITY = 0;

export const userRoleName = (username: string): string => `${USER_ROLE_PREFIX}${username}`;
/** True for the dynsec roles and groups MCM names itself (never an operator's MCM role). */
export const isMcmOwnName = (name: string): boolean => name.includes(':');

export const DEFAULT_ACL_ACCESS: DefaultAclAccess = { publishClientSend: false, publishClientReceive: false, subscribe: false, unsubscribe: true };

/** The plugin's ACLs for one rule (see the module comment). */
export const aclsForRule = (access: Access, topic: string): DynsecAcl[] => {
  const allow = access !== 'deny';
  const priority = allow ? ALLOW_PRIORITY : DENY_PRIORITY;
  const out: DynsecAcl[] = [];
  if (access === 'read' || access === 'readwrite' || access === 'deny') {
    out.push({ acltype: 'subscribePattern', topic, priority, allow }, { acltype: 'publishClientReceive', topic, priority, allow });
  }
  if (access === 'write' || access === 'readwrite' || access === 'deny') out.push({ acltype: 'publishClientSend', topic, priority, allow });
  return out;
};

/** One key per ACL as the plugin identifies it (removeRoleACL names type and topic). */
export const dynsecAclKey = (a: Pick<DynsecAcl, 'acltype' | 'topic'>): string => `${a.acltype}\u0000${a.topic}`;

/**
 * A role's ACLs from its rules, one per (type, topic): the plugin keeps one ACL per type and topic
 * (addRoleACL of an existing pair fails), so when rules overlap a deny wins, as in an ACL file.
 */
const roleAcls = (rules: readonly Pick<AclRule, 'access' | 'topic'>[]): DynsecAcl[] => {
  const byKey = new Map<string, DynsecAcl>();
  for (const r of rules) {
    for (const acl of aclsForRule(r.access, r.topic)) {
      const key = dynsecAclKey(acl);
      const had = byKey.get(key);
      if (!had || (had.allow && !acl.allow)) byKey.set(key, acl);
    }
  }
  return [...byKey.entries()].sort(([a], [b]) => compareText(a, b)).map(([, acl]) => acl);
};

export const serviceRoleAcls = (): DynsecAcl[] => {
  const acl = (acltype: DynsecAclType, topic: string): DynsecAcl => ({ acltype, topic, priority: 0, allow: true });
  return [
    // Observe everything (the observer), publish anywhere (the UI's publish), as with files.
    acl('publishClientSend', '#'), acl('subscribePattern', '#'), acl('publishClientReceive', '#'),
    acl('subscribePattern', '$SYS/#'), acl('publishClientReceive', '$SYS/#'),
    acl('subscribePattern', '$mcm/#'), acl('publishClientReceive', '$mcm/#'),
    // The plugin's admin (reference §6.3): commands and their responses.
    acl('publishClientSend', '$CONTROL/dynamic-security/#'),
    acl('subscribePattern', '$CONTROL/dynamic-security/#'), acl('publishClientReceive', '$CONTROL/dynamic-security/#'),
  ].sort((a, b) => compareText(dynsecAclKey(a), dynsecAclKey(b)));
};

/** '#' never matches a '$' topic, so this is the only ACL that lets MCM publish under `$mcm`. */
/**
 * The probe's rights never change: unlike the files backend, the generation is not proven through
 * a probe topic, because every change to the plugin makes it rewrite its whole file (at 100,000
 * clients that doubles a change's cost) and kicks the role's clients. The plugin answers each
 * command in order once applied, and the apply reads the touched entries back (dynsec-worker.ts).
 */
const probeRoleAcls = (): DynsecAcl[] => [
  { acltype: 'publishClientReceive', topic: '$mcm/#', priority: 0, allow: true },
  { acltype: 'publishClientSend', topic: '$mcm/probe/#', priority: 0, allow: true },
  { acltype: 'subscribePattern', topic: '$mcm/#', priority: 0, allow: true },
];

/**
 * The probe's own client: the plugin kicks every client of a role it modifies (reference §6.3),
 * and `mcm:probe` changes at every apply, so only this client holds it — never the service
 * account, whose observer and admin connections must stay up. Same password as the service
 * account; ':' makes the name one no MCM user can have (core/names.ts).
 */
export const probeUsername = (serviceAccount: string): string => `${serviceAccount}:probe`;

export type DynsecModelOptions = Readonly<{ serviceAccount: string; serviceAccountHash: string }>;

/** The rules of a principal, in id order. */
export type DynsecRulesOf = (principal: string) => readonly AclRule[];

/** A user's client and its own role (null without direct rules); null for the service account or a user that is gone. */
export const userEntries = (state: BrokerConfig, name: string, rulesOf: DynsecRulesOf, serviceAccount: string): { client: DynsecClient; ownRole: DynsecRole | null } | null => {
  if (name === serviceAccount || !Object.hasOwn(state.users, name)) return null;
  const user = state.users[name]!;
  const direct = rulesOf(`user:${name}`);
  const refs: DynsecRoleRef[] = [];
  let ownRole: DynsecRole | null = null;
  if (direct.length > 0) {
    ownRole = { rolename: userRoleName(name), textdescription: '', acls: roleAcls(direct) };
    refs.push({ rolename: userRoleName(name), priority: DIRECT_RULES_PRIORITY });
  }
  for (const r of [...user.roles].sort(compareText)) refs.push({ rolename: r, priority: ROLE_PRIORITY });
  return { client: { username: name, textdescription: user.description, disabled: user.disabled, roles: refs, passwordHash: user.passwordHash }, ownRole };
};

/** An MCM role as a dynsec role, or null when it is gone. */
export const roleEntry = (state: BrokerConfig, name: string, rulesOf: DynsecRulesOf): DynsecRole | null =>
  Object.hasOwn(state.roles, name) ? { rolename: name, textdescription: state.roles[name]!.description, acls: roleAcls(rulesOf(`role:${name}`)) } : null;

export const anonymousRole = (rulesOf: DynsecRulesOf): DynsecRole => ({ rolename: ANONYMOUS_ROLE, textdescription: 'MCM anonymous rules', acls: roleAcls(rulesOf('anonymous')) });

// The anonymous group always exists, holding the anonymous rules' role (empty without rules):
// the plugin has no command that unsets the anonymous group, so it is never left to point at an
// operator's group (anonymous clients fall to the default access, which denies).
const ANONYMOUS_GROUPS: readonly DynsecGroup[] = [{ groupname: ANONYMOUS_GROUP, roles: [{ rolename: ANONYMOUS_ROLE, priority: 0 }], clients: [] }];

export const serviceClient = (opts: Pick<DynsecModelOptions, 'serviceAccount' | 'serviceAccountHash'>): DynsecClient => ({
  username: opts.serviceAccount, textdescription: 'MCM service account', disabled: false,
  roles: [{ rolename: SERVICE_ROLE, priority: 0 }], passwordHash: opts.serviceAccountHash,
});
export const probeClient = (opts: Pick<DynsecModelOptions, 'serviceAccount' | 'serviceAccountHash'>): DynsecClient => ({
  username: probeUsername(opts.serviceAccount), textdescription: 'MCM enforcement probe', disabled: false,
  roles: [{ rolename: PROBE_ROLE, priority: 0 }], passwordHash: opts.serviceAccountHash,
});
export const serviceRole = (): DynsecRole => ({ rolename: SERVICE_ROLE, textdescription: 'MCM service account', acls: serviceRoleAcls() });
export const probeRole = (): DynsecRole => ({ rolename: PROBE_ROLE, textdescription: 'MCM enforcement probe', acls: probeRoleAcls() });

export const patternRulesUnsupported = (rules: readonly AclRule[]): { rule: number; reason: string }[] =>
  [...rules].sort((a, b) => a.id - b.id).map((r) => ({ rule: r.id, reason: `rule ${r.id} (pattern ${r.topic}): the dynamic-security plugin of Mosquitto 2.0 has no %c/%u patterns` }));

/** The whole model from its parts, sorted. */
export const assembleDynsecModel = (parts: Readonly<{
  clients: Iterable<DynsecClient>; roles: Iterable<DynsecRole>; unsupported: readonly { rule: number; reason: string }[];
}>): DynsecModel => ({
  defaultACLAccess: DEFAULT_ACL_ACCESS,
  clients: [...parts.clients].sort((a, b) => compareText(a.username, b.username)),
  roles: [...parts.roles].sort((a, b) => compareText(a.rolename, b.rolename)),
  groups: ANONYMOUS_GROUPS,
  anonymousGroup: ANONYMOUS_GROUP,
  unsupported: parts.unsupported,
});

export const buildDynsecModel = (state: BrokerConfig, opts: DynsecModelOptions): DynsecModel => {
  const byPrincipal = new Map<string, AclRule[]>();
  for (const r of Object.values(state.rules).sort((a, b) => a.id - b.id)) {
    const list = byPrincipal.get(r.principal);
    if (list) list.push(r);
    else byPrincipal.set(r.principal, [r]);
  }
  const rulesOf: DynsecRulesOf = (p) => byPrincipal.get(p) ?? [];
  const roles: DynsecRole[] = [serviceRole(), probeRole(), anonymousRole(rulesOf)];
  const clients: DynsecClient[] = [serviceClient(opts), probeClient(opts)];
  for (const name of Object.keys(state.roles)) roles.push(roleEntry(state, name, rulesOf)!);
  for (const name of Object.keys(state.users)) {
    const e = userEntries(state, name, rulesOf, opts.serviceAccount);
    if (!e) continue;
    clients.push(e.client);
    if (e.ownRole) roles.push(e.ownRole);
  }
  return assembleDynsecModel({ clients, roles, unsupported: patternRulesUnsupported(rulesOf('pattern')) });
};
