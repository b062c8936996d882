/**
 * What to send to the dynamic-security plugin so it holds the desired model (issue 15): a diff of
 * the plugin's state as read back over `$CONTROL/dynamic-security/v1` (reference §6.3) against
 * `buildDynsecModel`. Pure: passwords come in through `passwordOf`, which the adapter answers.
 *
 * Command order matters to the plugin: a role must exist before a client or group names it, and
 * a role is deleted only after no client or group holds it. `modifyClient` with `roles` and
 * `modifyRole` with `acls` replace the whole list (observed on 2.0.11), so one command per
 * changed client or role suffices. Everything the plugin holds that the model does not (a client
 * made with `mosquitto_ctrl`) is deleted: MCM's event log is the source of truth.
 */
import type { DefaultAclAccess, DynsecAcl, DynsecClient, DynsecGroup, DynsecModel, DynsecRole, DynsecRoleRef } from './dynsec-model.ts';
import { dynsecAclKey } from './dynsec-model.ts';
import { compareText } from '../core/acl-model.ts';

/** The plugin's state as `listClients`/`listRoles`/`listGroups` (verbose) report it, normalised. */
export type DynsecActual = Readonly<{
  defaultACLAccess: DefaultAclAccess;
  clients: readonly Readonly<{ username: string; textdescription: string; disabled: boolean; roles: readonly DynsecRoleRef[]; groups: readonly string[] }>[];
  roles: readonly DynsecRole[];
  groups: readonly DynsecGroup[];
  /** '' when none is set. */
  anonymousGroup: string;
}>;

export type DynsecCommand = Readonly<Record<string, unknown> & { command: string }>;

/**
 * `plaintext` to set it; `keep` when the plugin already holds this hash's password; null when it
 * must be set but MCM has no plaintext for it (2.0's plugin takes only plaintext passwords).
 */
export type PasswordAnswer = string | 'keep' | null;
export type PasswordOf = (client: DynsecClient, exists: boolean) => PasswordAnswer;

export type DynsecPlan = Readonly<{
  commands: readonly DynsecCommand[];
  /** One line per difference found, for drift reports and the apply's log. */
  differences: readonly string[];
  /** Clients whose password must be set and can't be (see PasswordAnswer). */
  missingPasswords: readonly string[];
}>;

const refsKey = (refs: readonly DynsecRoleRef[]): string =>
  refs.map((r) => `${r.rolename}\u0000${r.priority}`).sort(compareText).join('\u0001');

const aclsKey = (acls: readonly DynsecAcl[]): string =>
  acls.map((a) => `${dynsecAclKey(a)}\u0000${a.priority}\u0000${a.allow}`).sort(compareText).join('\u0001');

const aclPayload = (acls: readonly DynsecAcl[]): DynsecAcl[] => acls.map((a) => ({ acltype: a.acltype, topic: a.topic, priority: a.priority, allow: a.allow }));
const refsPayload = (refs: readonly DynsecRoleRef[]): DynsecRoleRef[] => refs.map((r) => ({ rolename: r.rolename, priority: r.priority }));

/**
 * A description only when there is one, or to change one: the plugin stores an empty string it is
 * sent, and its file (rewritten whole after every change) is then larger for nothing.
 */
const described = (want: string, had = ''): { textdescription?: string } => (want !== '' || had !== '' ? { textdescription: want } : {});

const DEFAULT_KEYS = ['publishClientSend', 'publishClientReceive', 'subscribe', 'unsubscribe'] as const;

export const planDynsec = (actual: DynsecActual, desired: DynsecModel, passwordOf: PasswordOf): DynsecPlan => {
  const commands: DynsecCommand[] = [];
  const differences: string[] = [];
  const missingPasswords: string[] = [];

  const defaultsDiffer = DEFAULT_KEYS.filter((k) => actual.defaultACLAccess[k] !== desired.defaultACLAccess[k]);
  if (defaultsDiffer.length > 0) {
    differences.push(`default access differs (${defaultsDiffer.join(', ')})`);
    commands.push({ command: 'setDefaultACLAccess', acls: DEFAULT_KEYS.map((k) => ({ acltype: k, allow: desired.defaultACLAccess[k] })) });
  }

  const actualRoles = new Map(actual.roles.map((r) => [r.rolename, r]));
  for (const role of desired.roles) {
    const had = actualRoles.get(role.rolename);
    if (!had) {
      differences.push(`role ${role.rolename} is missing`);
      commands.push({ command: 'createRole', rolename: role.rolename, ...described(role.textdescription), acls: aclPayload(role.acls) });
    } else if (aclsKey(had.acls) !== aclsKey(role.acls) || had.textdescription !== role.textdescription) {
      differences.push(`role ${role.rolename} differs (${aclsKey(had.acls) !== aclsKey(role.acls) ? 'ACLs' : 'description'})`);
      commands.push({ command: 'modifyRole', rolename: role.rolename, ...described(role.textdescription, had.textdescription), acls: aclPayload(role.acls) });
    }
  }

  const actualGroups = new Map(actual.groups.map((g) => [g.groupname, g]));
  for (const group of desired.groups) {
    const had = actualGroups.get(group.groupname);
    if (!had) {
      differences.push(`group ${group.groupname} is missing`);
      commands.push({ command: 'createGroup', groupname: group.groupname, roles: refsPayload(group.roles) });
    } else if (refsKey(had.roles) !== refsKey(group.roles)) {
      differences.push(`group ${group.groupname} differs (roles)`);
      commands.push({ command: 'modifyGroup', groupname: group.groupname, roles: refsPayload(group.roles) });
    }
    const members = new Set(had?.clients ?? []);
    for (const c of group.clients) if (!members.has(c)) commands.push({ command: 'addGroupClient', groupname: group.groupname, username: c });
    const wanted = new Set(group.clients);
    for (const c of had?.clients ?? []) {
      if (!wanted.has(c)) {
        differences.push(`group ${group.groupname} holds client ${c}`);
        commands.push({ command: 'removeGroupClient', groupname: group.groupname, username: c });
      }
    }
  }
  if (actual.anonymousGroup !== desired.anonymousGroup) {
    differences.push(`anonymous group is ${actual.anonymousGroup === '' ? 'unset' : actual.anonymousGroup}`);
    commands.push({ command: 'setAnonymousGroup', groupname: desired.anonymousGroup });
  }

  const actualClients = new Map(actual.clients.map((c) => [c.username, c]));
  for (const client of desired.clients) {
    const had = actualClients.get(client.username);
    const pw = passwordOf(client, had !== undefined);
    if (pw === null) missingPasswords.push(client.username);
    if (!had) {
      differences.push(`client ${client.username} is missing`);
      commands.push({
        command: 'createClient', username: client.username, ...described(client.textdescription), roles: refsPayload(client.roles),
        ...(typeof pw === 'string' && pw !== 'keep' ? { password: pw } : {}),
      });
      if (client.disabled) commands.push({ command: 'disableClient', username: client.username });
      continue;
    }
    if (refsKey(had.roles) !== refsKey(client.roles) || had.textdescription !== client.textdescription) {
      differences.push(`client ${client.username} differs (${refsKey(had.roles) !== refsKey(client.roles) ? 'roles' : 'description'})`);
      commands.push({ command: 'modifyClient', username: client.username, ...described(client.textdescription, had.textdescription), roles: refsPayload(client.roles) });
    }
    if (typeof pw === 'string' && pw !== 'keep') commands.push({ command: 'setClientPassword', username: client.username, password: pw });
    if (had.disabled !== client.disabled) {
      differences.push(`client ${client.username} is ${had.disabled ? 'disabled' : 'enabled'}`);
      // disableClient kicks the client's connections (DISCONNECT 0x98, reference §6.3).
      commands.push({ command: client.disabled ? 'disableClient' : 'enableClient', username: client.username });
    }
  }

  const desiredClients = new Set(desired.clients.map((c) => c.username));
  for (const c of actual.clients) {
    if (desiredClients.has(c.username)) continue;
    differences.push(`client ${c.username} is not in MCM`);
    commands.push({ command: 'deleteClient', username: c.username });
  }
  const desiredGroups = new Set(desired.groups.map((g) => g.groupname));
  for (const g of actual.groups) {
    if (desiredGroups.has(g.groupname)) continue;
    differences.push(`group ${g.groupname} is not in MCM`);
    commands.push({ command: 'deleteGroup', groupname: g.groupname });
  }
  const desiredRoles = new Set(desired.roles.map((r) => r.rolename));
  for (const r of actual.roles) {
    if (desiredRoles.has(r.rolename)) continue;
    differences.push(`role ${r.rolename} is not in MCM`);
    commands.push({ command: 'deleteRole', rolename: r.rolename });
  }
  return { commands, differences, missingPasswords };
};

/** Normalises the plugin's verbose list answers (reference §6.3; priorities it omits are -1). */
export const parseDynsecActual = (lists: Readonly<{ clients: unknown; roles: unknown; groups: unknown; defaultACLAccess: unknown; anonymousGroup: unknown }>): DynsecActual => {
  const arr = (v: unknown, key: string): Record<string, unknown>[] => {
    const inner = (v as Record<string, unknown> | null)?.[key];
    return Array.isArray(inner) ? (inner as Record<string, unknown>[]) : [];
  };
  const str = (v: unknown): string => (typeof v === 'string' ? v : '');
  const refs = (v: unknown): DynsecRoleRef[] => (Array.isArray(v) ? v : []).map((r: Record<string, unknown>) => ({
    rolename: str(r.rolename), priority: typeof r.priority === 'number' ? r.priority : -1,
  }));
  const defaults: Record<string, boolean> = {};
  for (const a of arr(lists.defaultACLAccess, 'acls')) defaults[str(a.acltype)] = a.allow === true;
  const anon = (lists.anonymousGroup as { group?: { groupname?: unknown } } | null)?.group?.groupname;
  return {
    defaultACLAccess: {
      publishClientSend: defaults.publishClientSend ?? false, publishClientReceive: defaults.publishClientReceive ?? true,
      subscribe: defaults.subscribe ?? false, unsubscribe: defaults.unsubscribe ?? true,
    },
    clients: arr(lists.clients, 'clients').map((c) => ({
      username: str(c.username), textdescription: str(c.textdescription), disabled: c.disabled === true, roles: refs(c.roles),
      groups: (Array.isArray(c.groups) ? c.groups : []).map((g: Record<string, unknown>) => str(g.groupname)),
    })),
    roles: arr(lists.roles, 'roles').map((r) => ({
      rolename: str(r.rolename), textdescription: str(r.textdescription),
      acls: (Array.isArray(r.acls) ? r.acls : []).map((a: Record<string, unknown>) => ({
        acltype: str(a.acltype) as DynsecAcl['acltype'], topic: str(a.topic), priority: typeof a.priority === 'number' ? a.priority : 0, allow: a.allow === true,
      })),
    })),
    groups: arr(lists.groups, 'groups').map((g) => ({
      groupname: str(g.groupname), roles: refs(g.roles),
      clients: (Array.isArray(g.clients) ? g.clients : []).map((c: Record<string, unknown>) => str(c.username)),
    })),
    anonymousGroup: str(anon),
  };
};
