/**
 * `mcm acl explain`: would the broker let this client read or write this topic, and which rules
 * decide (DESIGN §5: the core's evaluator, the broker's own semantics). Exit 0 whenever the
 * explanation was produced, whether the answer is ALLOWED or DENIED.
 */
import type { ExplainResult } from '../../../core/explain.ts';
import { COMMON_USAGE, EXIT, parseCommandArgs, UsageError, type CliCommand } from '../command.ts';
import { withBackend } from '../data-access.ts';

const usage = `Usage: mcm acl explain (--user U | --anonymous) [--clientid C] --topic T --action read|write [--json]

Evaluates the ACL rules with Mosquitto's semantics and prints ALLOWED or DENIED, the reason,
and the rules that decide. Exit status 0 either way (1 only when it cannot be answered).

Options:
  --user U            the client's MQTT username
  --anonymous         a client without a username (instead of --user)
  --clientid C        its client id (for pattern rules with %c; unknown when omitted)
  --topic T           the topic (a topic name, no wildcards)
  --action A          read or write
  --json              print the explain result as JSON ({allowed, reason, matched, ...})
${COMMON_USAGE}`;

const text = (r: ExplainResult): string => {
  const lines = [`${r.allowed ? 'ALLOWED' : 'DENIED'}: ${r.reason}`];
  if (r.matched.length === 0) {
    lines.push('deciding rules: none');
  } else {
    lines.push('deciding rules:');
    for (const m of r.matched) {
      const id = m.id === undefined ? 'built-in' : `rule ${m.id}`;
      lines.push(`  ${id}  ${m.principal}  ${m.access}  ${m.topic}  (${m.source})`);
    }
  }
  for (const n of r.notes) lines.push(`note: ${n}`);
  return `${lines.join('\n')}\n`;
};

export const aclExplainCommand: CliCommand = {
  name: 'explain',
  summary: 'explain whether a client may read or write a topic, and why',
  usage,
  run: async (argv, io) => {
    const { values } = parseCommandArgs(argv, {
      user: { type: 'string' },
      anonymous: { type: 'boolean' },
      clientid: { type: 'string' },
      topic: { type: 'string' },
      action: { type: 'string' },
      json: { type: 'boolean' },
    }, usage);
    if (values.help) {
      io.stdout(usage);
      return EXIT.OK;
    }
    if (values.user !== undefined && values.anonymous) throw new UsageError('give --user or --anonymous, not both', usage);
    if (values.user === undefined && !values.anonymous) throw new UsageError('--user is required (or --anonymous for a client without a username)', usage);
    if (values.user === '') throw new UsageError('--user must not be empty (use --anonymous for a client without a username)', usage);
    if (values.topic === undefined || values.topic === '') throw new UsageError('--topic is required', usage);
    const action = values.action;
    if (action !== 'read' && action !== 'write') {
      throw new UsageError(action === undefined ? '--action is required (read or write)' : `--action must be read or write, got ${JSON.stringify(action)}`, usage);
    }
    const topic = values.topic;
    const result = await withBackend(io, values.config, (b) => b.explain({
      username: values.user ?? null,
      ...(values.clientid === undefined ? {} : { clientid: values.clientid }),
      topic,
      action,
    }));
    io.stdout(values.json ? `${JSON.stringify(result, null, 2)}\n` : text(result));
    return EXIT.OK;
  },
};
