/**
 * External broker with the dynamic-security plugin (issue 15): MCM administers the plugin as its
 * own service account, which the plugin does not know yet. The operator gives MCM an admin of the
 * plugin once (MCM_DYNSEC_ADMIN_USERNAME / MCM_DYNSEC_ADMIN_PASSWORD, e.g. the client
 * `mosquitto_ctrl dynsec init` made); MCM uses it only to create (or repair) its service account
 * with the role `mcm:service` — the plugin's admin ACLs, observe, publish — and from then on
 * works as that account. The admin's password is never stored.
 */
import type { ProbeTarget } from '../mosquitto/probe.ts';
import { SERVICE_ROLE, serviceRoleAcls } from '../../projections/dynsec-model.ts';
import { createDynsecControl } from './dynsec-control.ts';

export type AdminCredential = Readonly<{ username: string; password: string }>;

/** Errors a create answers when the entry is already there: then the modify after it sets it. */
const ALREADY = /already exists/i;

export const setUpServiceAccount = async (opts: Readonly<{
  target: ProbeTarget;
  admin: AdminCredential;
  service: Readonly<{ username: string; password: string }>;
  timeoutMs: number;
}>): Promise<void> => {
  const control = createDynsecControl({ target: { ...opts.target, username: opts.admin.username, password: opts.admin.password }, timeoutMs: opts.timeoutMs });
  const roles = [{ rolename: SERVICE_ROLE, priority: 0 }];
  const commands = [
    { command: 'createRole', rolename: SERVICE_ROLE, textdescription: 'MCM service account', acls: serviceRoleAcls() },
    { command: 'modifyRole', rolename: SERVICE_ROLE, acls: serviceRoleAcls() },
    { command: 'createClient', username: opts.service.username, password: opts.service.password, textdescription: 'MCM service account', roles },
    { command: 'setClientPassword', username: opts.service.username, password: opts.service.password },
    { command: 'modifyClient', username: opts.service.username, roles },
    { command: 'enableClient', username: opts.service.username },
  ];
  try {
    const responses = await control.send(commands);
    const errors = responses.flatMap((r, i) => (typeof r.error === 'string' && !(ALREADY.test(r.error) && commands[i]!.command.startsWith('create')) ? [`${commands[i]!.command}: ${r.error}`] : []));
    if (errors.length > 0) throw new Error(`setting up MCM's service account in the plugin as ${opts.admin.username} failed: ${errors.join('; ')}`);
  } finally {
    control.close();
  }
};
