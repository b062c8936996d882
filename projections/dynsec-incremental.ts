/**
 * The dynamic-security model kept up to date incrementally (issue 15 on issue 14's terms): at
 * 100,000 users, building the whole model and diffing it per change takes about a second, while
 * the plugin applies one change in milliseconds. Like the files renderer
 * (./incremental-files.ts), it follows the event tracker (core/evolve/touches.ts): a user's
 * client and own role are rebuilt only when the user or its direct rules were touched, a role
 * only when it or its rules were. `update` says what changed, so the apply plans only those
 * entries against what the plugin was last given.
 *
 * Pure: no clock, no I/O; the cache is memory owned by the caller.
 */
import type { AclRule } from '../core/acl-types.ts';
import { touchesOf, type Touches } from '../core/evolve/touches.ts';
import { rulesByPrincipal } from '../core/evolve/rule-index.ts';
import type { BrokerConfig } from '../core/state.ts';
import {
  anonymousRole, ANONYMOUS_ROLE, assembleDynsecModel, patternRulesUnsupported, probeClient, probeRole, PROBE_ROLE, roleEntry, serviceClient, serviceRole,
  userEntries, userRoleName, type DynsecClient, type DynsecModel, type DynsecModelOptions, type DynsecRole, type DynsecRulesOf, probeUsername,
} from './dynsec-model.ts';

/** What an update changed: `full` when everything was rebuilt (first use, another state object, a journal gap). */
export type DynsecChange = Readonly<{ full: boolean; clients: ReadonlySet<string>; roles: ReadonlySet<string> }>;

export type DynsecModeler = Readonly<{
  update(state: BrokerConfig): DynsecChange;
  client(username: string): DynsecClient | undefined;
  role(rolename: string): DynsecRole | undefined;
  unsupported(): readonly { rule: number; reason: string }[];
  /** The whole model (sorted): for the plugin file and drift checks, not per apply. */
  model(): DynsecModel;
}>;

export const createDynsecModeler = (opts: Pick<DynsecModelOptions, 'serviceAccount' | 'serviceAccountHash'>): DynsecModeler => {
  let tracker: Touches | null = null;
  let journalAt = 0;
  let rolesAt = -1;
  let anonymousAt = -1;
  let patternsAt = -1;
  const clients = new Map<string, DynsecClient>();
  const roles = new Map<string, DynsecRole>();
  const roleSeq = new Map<string, number>();
  let unsupported: readonly { rule: number; reason: string }[] = [];

  const rulesOf = (state: BrokerConfig): DynsecRulesOf => (principal) =>
    [...rulesByPrincipal(state.rules, principal).values()].sort((a: AclRule, b: AclRule) => a.id - b.id);

  const putUser = (state: BrokerConfig, name: string, of: DynsecRulesOf, changedClients: Set<string>, changedRoles: Set<string>): void => {
    if (name === opts.serviceAccount || name === probeUsername(opts.serviceAccount)) return;
    const e = userEntries(state, name, of, opts.serviceAccount);
    if (e) clients.set(name, e.client);
    else clients.delete(name);
    if (e?.ownRole) roles.set(e.ownRole.rolename, e.ownRole);
    else roles.delete(userRoleName(name));
    changedClients.add(name);
    changedRoles.add(userRoleName(name));
  };

  const putRole = (state: BrokerConfig, name: string, of: DynsecRulesOf, changedRoles: Set<string>): void => {
    const r = roleEntry(state, name, of);
    if (r) roles.set(name, r);
    else roles.delete(name);
    changedRoles.add(name);
  };

  const rebuild = (state: BrokerConfig, t: Touches): DynsecChange => {
    clients.clear();
    roles.clear();
    roleSeq.clear();
    const of = rulesOf(state);
    const none = new Set<string>();
    for (const name of Object.keys(state.users)) putUser(state, name, of, none, none);
    for (const name of Object.keys(state.roles)) putRole(state, name, of, none);
    clients.set(opts.serviceAccount, serviceClient(opts));
    const probe = probeClient(opts);
    clients.set(probe.username, probe);
    roles.set(serviceRole().rolename, serviceRole());
    roles.set(PROBE_ROLE, probeRole());
    roles.set(ANONYMOUS_ROLE, anonymousRole(of));
    unsupported = patternRulesUnsupported(of('pattern'));
    tracker = t;
    journalAt = t.journalBase + t.journal.length;
    rolesAt = t.rolesAt;
    for (const [name, seq] of t.roles) roleSeq.set(name, seq);
    anonymousAt = t.anonymous;
    patternsAt = t.patterns;
    return { full: true, clients: new Set(clients.keys()), roles: new Set(roles.keys()) };
  };

  return {
    update(state) {
      const t = touchesOf(state);
      if (t !== tracker || journalAt < t.journalBase) return rebuild(state, t);
      const of = rulesOf(state);
      const changedClients = new Set<string>();
      const changedRoles = new Set<string>();
      const end = t.journalBase + t.journal.length;
      const seen = new Set<string>();
      for (let i = journalAt; i < end; i++) {
        const name = t.journal[i - t.journalBase]!;
        if (seen.has(name)) continue;
        seen.add(name);
        putUser(state, name, of, changedClients, changedRoles);
      }
      journalAt = end;
      if (t.rolesAt > rolesAt) {
        for (const [name, seq] of t.roles) {
          if ((roleSeq.get(name) ?? -1) >= seq) continue;
          roleSeq.set(name, seq);
          putRole(state, name, of, changedRoles);
        }
        rolesAt = t.rolesAt;
      }
      if (t.anonymous > anonymousAt) {
        roles.set(ANONYMOUS_ROLE, anonymousRole(of));
        changedRoles.add(ANONYMOUS_ROLE);
        anonymousAt = t.anonymous;
      }
      if (t.patterns > patternsAt) {
        unsupported = patternRulesUnsupported(of('pattern'));
        patternsAt = t.patterns;
      }
      return { full: false, clients: changedClients, roles: changedRoles };
    },
    client: (username) => clients.get(username),
    role: (rolename) => roles.get(rolename),
    unsupported: () => unsupported,
    model: () => assembleDynsecModel({ clients: clients.values(), roles: roles.values(), unsupported }),
  };
};
