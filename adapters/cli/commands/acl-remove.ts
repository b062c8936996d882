/** `mcm acl remove ID`: removes one ACL rule (ids are never reused). */
import { COMMON_USAGE, EXIT, parseCommandArgs, UsageError, type CliCommand } from '../command.ts';
import { withBackend } from '../data-access.ts';

const usage = `Usage: mcm acl remove ID

Removes the ACL rule with id ID (see \`mcm acl list\`).
${COMMON_USAGE}`;

export const aclRemoveCommand: CliCommand = {
  name: 'remove',
  summary: 'remove an ACL rule by id',
  usage,
  run: async (argv, io) => {
    const { values, positionals } = parseCommandArgs(argv, {}, usage, { max: 1 });
    if (values.help) {
      io.stdout(usage);
      return EXIT.OK;
    }
    const raw = positionals[0];
    if (raw === undefined) throw new UsageError('missing ID (the rule id, see `mcm acl list`)', usage);
    // Same rule as the API's id parameter: a positive integer, never a lookup by anything else.
    if (!/^[1-9]\d{0,14}$/.test(raw)) throw new UsageError(`ID must be a positive integer, got ${JSON.stringify(raw)}`, usage);
    const id = Number(raw);
    await withBackend(io, values.config, (b) => b.removeAcl(id));
    io.stdout(`removed ACL rule ${id}\n`);
    return EXIT.OK;
  },
};
