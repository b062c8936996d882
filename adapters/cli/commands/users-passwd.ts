/** `mcm users passwd NAME`: sets an MQTT user's password (given, from stdin, or generated). */
import { COMMON_USAGE, EXIT, parseCommandArgs, type CliCommand } from '../command.ts';
import { withBackend } from '../data-access.ts';
import { generatedPasswordLine, nameArgument, PASSWORD_OPTIONS, PASSWORD_USAGE, passwordInput } from './users-args.ts';

const usage = `Usage: mcm users passwd NAME [--password P | --password-stdin] [--json]

Sets a new password for the MQTT user NAME. Without a password option MCM generates one and
prints it once; only its $7$ hash is stored.

Options:
${PASSWORD_USAGE}  --json              print {"username", "password"?} as JSON
${COMMON_USAGE}`;

export const usersPasswdCommand: CliCommand = {
  name: 'passwd',
  summary: "set an MQTT user's password (given, from stdin, or generated)",
  usage,
  run: async (argv, io) => {
    const { values, positionals } = parseCommandArgs(argv, { ...PASSWORD_OPTIONS, json: { type: 'boolean' } }, usage, { max: 1 });
    if (values.help) {
      io.stdout(usage);
      return EXIT.OK;
    }
    const username = nameArgument(positionals, 'NAME (the MQTT username)', usage);
    const password = await passwordInput(values, io, usage);
    const result = await withBackend(io, values.config, (b) => b.changePassword(username, password));
    if (values.json) io.stdout(`${JSON.stringify({ username, ...result })}\n`);
    else io.stdout(`changed the password of MQTT user ${JSON.stringify(username)}\n${result.password === undefined ? '' : generatedPasswordLine(result.password)}`);
    return EXIT.OK;
  },
};
