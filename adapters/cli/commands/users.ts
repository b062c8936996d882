/** `mcm users …`: MQTT users (Mosquitto password-file entries). */
import { createCommandGroup } from '../command-group.ts';
import { usersAddCommand } from './users-add.ts';
import { usersListCommand } from './users-list.ts';
import { usersPasswdCommand } from './users-passwd.ts';
import { usersDeleteCommand, usersDisableCommand, usersEnableCommand } from './users-state.ts';

export const usersCommand = createCommandGroup({
  name: 'users',
  summary: 'manage MQTT users (through the running server, or on the data dir)',
  subcommands: [usersListCommand, usersAddCommand, usersPasswdCommand, usersDisableCommand, usersEnableCommand, usersDeleteCommand],
});
