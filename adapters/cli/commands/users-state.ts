/**
 * `mcm users disable|enable|delete NAME`. A disabled user stays in MCM but is left out of the
 * password file, so the broker refuses its logins (DESIGN §6); deleting also removes the user's
 * direct ACL rules (DESIGN §5).
 */
import { COMMON_USAGE, EXIT, parseCommandArgs, type CliCommand } from '../command.ts';
import type { Backend } from '../data-access.ts';
import { withBackend } from '../data-access.ts';
import { nameArgument } from './users-args.ts';

const command = (spec: { name: string; summary: string; about: string; act: (b: Backend, username: string) => Promise<string> }): CliCommand => {
  const usage = `Usage: mcm users ${spec.name} NAME\n\n${spec.about}\n${COMMON_USAGE}`;
  return {
    name: spec.name,
    summary: spec.summary,
    usage,
    run: async (argv, io) => {
      const { values, positionals } = parseCommandArgs(argv, {}, usage, { max: 1 });
      if (values.help) {
        io.stdout(usage);
        return EXIT.OK;
      }
      const username = nameArgument(positionals, 'NAME (the MQTT username)', usage);
      io.stdout(await withBackend(io, values.config, (b) => spec.act(b, username)));
      return EXIT.OK;
    },
  };
};

const q = (s: string): string => JSON.stringify(s);

export const usersDisableCommand = command({
  name: 'disable',
  summary: 'disable an MQTT user (the broker refuses its logins)',
  about: 'Disables the MQTT user NAME: it is kept, with its password, roles and rules, but left out\nof the password file, so the broker refuses its logins. Disabling a disabled user changes nothing.',
  act: async (b, username) => {
    await b.setDisabled(username, true);
    return `MQTT user ${q(username)} is disabled\n`;
  },
});

export const usersEnableCommand = command({
  name: 'enable',
  summary: 'enable a disabled MQTT user again',
  about: 'Enables the MQTT user NAME again: it is back in the password file with its old password.',
  act: async (b, username) => {
    await b.setDisabled(username, false);
    return `MQTT user ${q(username)} is enabled\n`;
  },
});

export const usersDeleteCommand = command({
  name: 'delete',
  summary: 'delete an MQTT user and its direct ACL rules',
  about: 'Deletes the MQTT user NAME, and with it the ACL rules whose principal is user:NAME.',
  act: async (b, username) => {
    await b.deleteUser(username);
    return `deleted MQTT user ${q(username)} and its direct ACL rules\n`;
  },
});
