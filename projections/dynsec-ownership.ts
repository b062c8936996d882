/**
 * What MCM may change in an external broker's dynamic-security plugin (issue 15, external mode):
 * the plugin may already hold the operator's own clients, roles and groups (an admin made with
 * `mosquitto_ctrl dynsec init`, devices provisioned by another tool). MCM manages only what is
 * its own — its users' clients, its roles, the `user:<name>` roles and its `mcm:` entries — and
 * leaves the rest exactly as it is: never deleted as drift, never changed, only listed.
 * A client of the same name as an MCM user is MCM's: the log says what that user is.
 */
import type { DynsecActual } from './dynsec-plan.ts';
import { isMcmOwnName, type DynsecModel } from './dynsec-model.ts';

export type ForeignEntries = Readonly<{ clients: readonly string[]; roles: readonly string[]; groups: readonly string[] }>;

/** The plugin state restricted to MCM's entries (what the plan compares), and the rest by name. */
export const ownedPart = (actual: DynsecActual, desired: DynsecModel): { owned: DynsecActual; foreign: ForeignEntries; anonymousGroup: string } => {
  const clients = new Set(desired.clients.map((c) => c.username));
  const roles = new Set(desired.roles.map((r) => r.rolename));
  const groups = new Set(desired.groups.map((g) => g.groupname));
  // MCM's own names carry ':' (projections/dynsec-model.ts): one that is gone from the model is still MCM's to delete.
  const ownsRole = (name: string): boolean => roles.has(name) || isMcmOwnName(name);
  const foreign = {
    clients: actual.clients.filter((c) => !clients.has(c.username) && !isMcmOwnName(c.username)).map((c) => c.username),
    roles: actual.roles.filter((r) => !ownsRole(r.rolename)).map((r) => r.rolename),
    groups: actual.groups.filter((g) => !groups.has(g.groupname) && !isMcmOwnName(g.groupname)).map((g) => g.groupname),
  };
  const foreignClients = new Set(foreign.clients);
  const foreignRoles = new Set(foreign.roles);
  const foreignGroups = new Set(foreign.groups);
  // An operator's anonymous group stays: MCM's anonymous rules then wait until it is unset.
  const anonymousGroup = actual.anonymousGroup !== '' && foreignGroups.has(actual.anonymousGroup) ? actual.anonymousGroup : desired.anonymousGroup;
  return {
    owned: {
      ...actual,
      clients: actual.clients.filter((c) => !foreignClients.has(c.username)),
      roles: actual.roles.filter((r) => !foreignRoles.has(r.rolename)),
      groups: actual.groups.filter((g) => !foreignGroups.has(g.groupname)),
      anonymousGroup: actual.anonymousGroup === anonymousGroup ? anonymousGroup : actual.anonymousGroup,
    },
    foreign,
    anonymousGroup,
  };
};
