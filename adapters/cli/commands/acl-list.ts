/** `mcm acl list`: the ACL rules (direct, role and pattern rules in one store, DESIGN §5). */
import type { AclRuleView } from '../../../projections/views.ts';
import { COMMON_USAGE, EXIT, parseCommandArgs, UsageError, type CliCommand } from '../command.ts';
import { withBackend } from '../data-access.ts';
import { formatTable } from './users-args.ts';

const usage = `Usage: mcm acl list [--principal P] [--json]

Lists the ACL rules by id: principal (user:<name>, role:<name>, anonymous or pattern), access
(read, write, readwrite or deny), topic filter and description.

Options:
  --principal P       only the rules of principal P, e.g. user:alice, role:ops, pattern
  --json              a JSON array of rules (the API's fields)
${COMMON_USAGE}`;

const text = (rules: readonly AclRuleView[]): string =>
  rules.length === 0
    ? 'no ACL rules\n'
    : formatTable([
      ['ID', 'PRINCIPAL', 'ACCESS', 'TOPIC', 'DESCRIPTION'],
      ...rules.map((r) => [String(r.id), r.principal, r.access, r.topic, r.description]),
    ]);

export const aclListCommand: CliCommand = {
  name: 'list',
  summary: 'list ACL rules',
  usage,
  run: async (argv, io) => {
    const { values } = parseCommandArgs(argv, { principal: { type: 'string' }, json: { type: 'boolean' } }, usage);
    if (values.help) {
      io.stdout(usage);
      return EXIT.OK;
    }
    if (values.principal === '') throw new UsageError('--principal must not be empty', usage);
    const principal = values.principal;
    const rules = await withBackend(io, values.config, (b) => b.listAcls(principal === undefined ? {} : { principal }));
    io.stdout(values.json ? `${JSON.stringify(rules, null, 2)}\n` : text(rules));
    return EXIT.OK;
  },
};
