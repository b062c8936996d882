/** `mcm acl add`: one ACL rule; the topic filter is checked exactly as Mosquitto checks it. */
import { ACCESS_VALUES } from '../../../core/acl-types.ts';
import { COMMON_USAGE, EXIT, parseCommandArgs, UsageError, type CliCommand } from '../command.ts';
import { withBackend } from '../data-access.ts';

const usage = `Usage: mcm acl add --principal P --topic T --access A [--description D] [--json]

Adds an ACL rule. A topic filter the broker would reject is refused (one bad line makes the
broker reject the whole ACL file).

Options:
  --principal P       user:<name> or role:<name> (which must exist), anonymous, or pattern
                      (every client, with %u and %c replaced by its username and client id)
  --topic T           MQTT topic filter, e.g. plant/+/temp or devices/%u/#
  --access A          read, write, readwrite or deny (deny lines win over the others)
  --description D     free text shown in lists
  --json              print the created rule as JSON
${COMMON_USAGE}`;

/** The shape of a principal; whether the user or role exists is the server's (or core's) to say. */
const PRINCIPAL = /^(user:.+|role:.+|anonymous|pattern)$/s;

const required = (value: string | undefined, option: string): string => {
  if (value === undefined) throw new UsageError(`${option} is required`, usage);
  if (value === '') throw new UsageError(`${option} must not be empty`, usage);
  return value;
};

export const aclAddCommand: CliCommand = {
  name: 'add',
  summary: 'add an ACL rule',
  usage,
  run: async (argv, io) => {
    const { values } = parseCommandArgs(argv, {
      principal: { type: 'string' },
      topic: { type: 'string' },
      access: { type: 'string' },
      description: { type: 'string' },
      json: { type: 'boolean' },
    }, usage);
    if (values.help) {
      io.stdout(usage);
      return EXIT.OK;
    }
    const principal = required(values.principal, '--principal');
    if (!PRINCIPAL.test(principal)) throw new UsageError(`--principal must be user:<name>, role:<name>, anonymous or pattern, got ${JSON.stringify(principal)}`, usage);
    const topic = required(values.topic, '--topic');
    const access = required(values.access, '--access');
    if (!(ACCESS_VALUES as readonly string[]).includes(access)) {
      throw new UsageError(`--access must be one of ${ACCESS_VALUES.join(', ')}, got ${JSON.stringify(access)}`, usage);
    }
    const rule = await withBackend(io, values.config, (b) => b.addAcl({
      principal, topic, access, ...(values.description === undefined ? {} : { description: values.description }),
    }), { createLog: true });
    io.stdout(values.json ? `${JSON.stringify(rule, null, 2)}\n` : `added ACL rule ${rule.id}: ${rule.principal} ${rule.access} ${rule.topic}\n`);
    return EXIT.OK;
  },
};
