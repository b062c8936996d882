/** `mcm admins …`: the people who use MCM (admin users); for now, lifting their sign-in locks. */
import { createCommandGroup } from '../command-group.ts';
import { adminsUnlockCommand } from './admins-unlock.ts';

export const adminsCommand = createCommandGroup({
  name: 'admins',
  summary: 'admin users: lift sign-in locks (through the running server, or on the data dir)',
  subcommands: [adminsUnlockCommand],
});
