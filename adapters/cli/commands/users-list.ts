/** `mcm users list`: the MQTT users (password-file entries), sorted by name. */
import type { MqttUserView } from '../../../projections/views.ts';
import { COMMON_USAGE, EXIT, parseCommandArgs, type CliCommand } from '../command.ts';
import { withBackend } from '../data-access.ts';
import { formatTable } from './users-args.ts';

const usage = `Usage: mcm users list [--json]

Lists the MQTT users (Mosquitto password-file entries): name, enabled or disabled, granted
roles, description. Password hashes are never shown. Goes through the running MCM server when
there is one, else reads <data_dir>/mcm.db.

Options:
  --json              a JSON array of users (the API's fields)
${COMMON_USAGE}`;

const text = (users: readonly MqttUserView[]): string =>
  users.length === 0
    ? 'no MQTT users\n'
    : formatTable([
      ['USERNAME', 'STATUS', 'ROLES', 'DESCRIPTION'],
      ...users.map((u) => [u.username, u.disabled ? 'disabled' : 'enabled', u.roles.length === 0 ? '-' : u.roles.join(','), u.description]),
    ]);

export const usersListCommand: CliCommand = {
  name: 'list',
  summary: 'list MQTT users',
  usage,
  run: async (argv, io) => {
    const { values } = parseCommandArgs(argv, { json: { type: 'boolean' } }, usage);
    if (values.help) {
      io.stdout(usage);
      return EXIT.OK;
    }
    const users = await withBackend(io, values.config, (b) => b.listUsers());
    io.stdout(values.json ? `${JSON.stringify(users, null, 2)}\n` : text(users));
    return EXIT.OK;
  },
};
