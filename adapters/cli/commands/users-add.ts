/** `mcm users add NAME`: a new MQTT user, with the operator's password or a generated one. */
import { COMMON_USAGE, EXIT, parseCommandArgs, UsageError, type CliCommand } from '../command.ts';
import { withBackend } from '../data-access.ts';
import { generatedPasswordLine, nameArgument, PASSWORD_OPTIONS, PASSWORD_USAGE, passwordInput } from './users-args.ts';

const usage = `Usage: mcm users add NAME [--password P | --password-stdin] [--role R]... [--description D] [--json]

Creates the MQTT user NAME (a Mosquitto password-file entry). Without a password option MCM
generates one and prints it once; only its $7$ hash is stored. Goes through the running MCM
server when there is one (which applies it to the broker at once), else writes to
<data_dir>/mcm.db and the server applies it when it starts.

Options:
${PASSWORD_USAGE}  --role R            grant role R (repeat for several; each must exist)
  --description D     free text shown in lists
  --json              print the created user (and the generated password) as JSON
${COMMON_USAGE}`;

export const usersAddCommand: CliCommand = {
  name: 'add',
  summary: 'create an MQTT user (password given, from stdin, or generated)',
  usage,
  run: async (argv, io) => {
    const { values, positionals } = parseCommandArgs(argv, {
      ...PASSWORD_OPTIONS,
      role: { type: 'string', multiple: true },
      description: { type: 'string' },
      json: { type: 'boolean' },
    }, usage, { max: 1 });
    if (values.help) {
      io.stdout(usage);
      return EXIT.OK;
    }
    const username = nameArgument(positionals, 'NAME (the MQTT username)', usage);
    if (values.role?.includes('')) throw new UsageError('--role must not be empty', usage);
    const password = await passwordInput(values, io, usage);
    const created = await withBackend(io, values.config, (b) => b.createUser({
      username,
      ...(password === undefined ? {} : { password }),
      ...(values.description === undefined ? {} : { description: values.description }),
      ...(values.role === undefined ? {} : { roles: values.role }),
    }), { createLog: true });
    if (values.json) {
      io.stdout(`${JSON.stringify({ ...created.user, ...(created.password === undefined ? {} : { password: created.password }) }, null, 2)}\n`);
    } else {
      const roles = created.user.roles.length === 0 ? '' : ` with role${created.user.roles.length === 1 ? '' : 's'} ${created.user.roles.join(', ')}`;
      io.stdout(`created MQTT user ${JSON.stringify(created.user.username)}${roles}\n${created.password === undefined ? '' : generatedPasswordLine(created.password)}`);
    }
    return EXIT.OK;
  },
};
