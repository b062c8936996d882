/** `mcm certs …`: the broker's TLS certificates (issue 13). */
import { createCommandGroup } from '../command-group.ts';
import { certsAddCommand } from './certs-add.ts';
import { certsListCommand } from './certs-list.ts';
import { certsRemoveCommand } from './certs-remove.ts';

export const certsCommand = createCommandGroup({
  name: 'certs',
  summary: "manage the broker's TLS certificates (through the running server, or on the data dir)",
  subcommands: [certsListCommand, certsAddCommand, certsRemoveCommand],
});
