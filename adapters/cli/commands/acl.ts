/** `mcm acl …`: ACL rules, and explain. */
import { createCommandGroup } from '../command-group.ts';
import { aclAddCommand } from './acl-add.ts';
import { aclExplainCommand } from './acl-explain.ts';
import { aclListCommand } from './acl-list.ts';
import { aclRemoveCommand } from './acl-remove.ts';

export const aclCommand = createCommandGroup({
  name: 'acl',
  summary: 'manage ACL rules and explain decisions (through the running server, or on the data dir)',
  subcommands: [aclListCommand, aclAddCommand, aclRemoveCommand, aclExplainCommand],
});
