/**
 * The dynamic-security plugin's whole state, read in one request over `$CONTROL` (reference
 * §6.3): verbose lists carry each client's roles and groups, each role's ACLs and each group's
 * members. Reads do not make the plugin rewrite its file.
 */
import { parseDynsecActual, type DynsecActual, type DynsecCommand } from '../../projections/dynsec-plan.ts';
import type { DynsecControl } from './dynsec-control.ts';

const READ_COMMANDS: readonly DynsecCommand[] = [
  { command: 'listClients', verbose: true, count: -1 },
  { command: 'listRoles', verbose: true, count: -1 },
  { command: 'listGroups', verbose: true, count: -1 },
  { command: 'getDefaultACLAccess' },
  { command: 'getAnonymousGroup' },
];

export const readPluginState = async (control: DynsecControl): Promise<DynsecActual> => {
  const r = await control.send(READ_COMMANDS);
  const errors = READ_COMMANDS.flatMap((c, i) => (r[i] === undefined ? [`${c.command}: no response`] : typeof r[i]!.error === 'string' ? [`${c.command}: ${r[i]!.error}`] : []));
  if (errors.length) throw new Error(`reading the plugin's state failed: ${errors.join('; ')}`);
  return parseDynsecActual({ clients: r[0]?.data, roles: r[1]?.data, groups: r[2]?.data, defaultACLAccess: r[3]?.data, anonymousGroup: r[4]?.data });
};
