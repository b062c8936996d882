/**
 * Issue 15, external mode: MCM compares and changes only its own entries of an operator's plugin;
 * the operator's clients, roles and groups are listed, never touched.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildDynsecModel } from '../../projections/dynsec-model.ts';
import { ownedPart } from '../../projections/dynsec-ownership.ts';
import { planDynsec, type DynsecActual } from '../../projections/dynsec-plan.ts';
import { ev, given, HASH_A } from '../helpers/decider-spec.ts';

const desired = buildDynsecModel(given([ev.userCreated('dev'), ev.roleDefined('ops'), ev.granted('dev', 'ops')]).state, { serviceAccount: 'mcm-service', serviceAccountHash: HASH_A });

const operators: DynsecActual = {
  defaultACLAccess: { publishClientSend: false, publishClientReceive: true, subscribe: false, unsubscribe: true },
  clients: [
    { username: 'admin', textdescription: '', disabled: false, roles: [{ rolename: 'admin', priority: -1 }], groups: [] },
    { username: 'mcm-service', textdescription: 'MCM service account', disabled: false, roles: [{ rolename: 'mcm:service', priority: 0 }], groups: [] },
    { username: 'old-mcm:thing', textdescription: '', disabled: false, roles: [], groups: [] },
  ],
  roles: [{ rolename: 'admin', textdescription: '', acls: [] }, { rolename: 'user:gone', textdescription: '', acls: [] }],
  groups: [{ groupname: 'plant', roles: [], clients: ['admin'] }],
  anonymousGroup: 'plant',
};

test('the operator\'s entries are left out of the comparison and listed; MCM\'s own (":" names) stay MCM\'s to delete', () => {
  const { owned, foreign, anonymousGroup } = ownedPart(operators, desired);
  assert.deepEqual(foreign, { clients: ['admin'], roles: ['admin'], groups: ['plant'] });
  assert.deepEqual(owned.clients.map((c) => c.username), ['mcm-service', 'old-mcm:thing']);
  assert.equal(anonymousGroup, 'plant', 'an anonymous group the operator set stays');
  const plan = planDynsec(owned, { ...desired, anonymousGroup }, () => 'keep');
  const cmds = plan.commands.map((c) => `${c.command} ${String(c.username ?? c.rolename ?? c.groupname ?? '')}`.trim());
  assert.ok(!cmds.some((c) => / (admin|plant)$/.test(c)), `nothing of the operator's is changed: ${cmds.join(', ')}`);
  assert.ok(cmds.includes('deleteClient old-mcm:thing') && cmds.includes('deleteRole user:gone'), 'what MCM made and no longer wants goes');
  assert.ok(cmds.includes('createClient dev') && cmds.includes('createRole ops'));
  assert.ok(!cmds.includes('setAnonymousGroup mcm:anonymous'));
});
