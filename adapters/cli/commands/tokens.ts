/** `mcm tokens …`: API tokens for scripts and CI (issue 17). */
import { createCommandGroup } from '../command-group.ts';
import { COMMON_USAGE, EXIT, parseCommandArgs, UsageError, type CliCommand } from '../command.ts';
import { withTokensBackend } from '../tokens-backend.ts';
import type { TokenView } from '../../../projections/api-token-view.ts';
import { formatTable, nameArgument } from './users-args.ts';

const createUsage = `Usage: mcm tokens create --name NAME --role ROLE [--expires DURATION] [--json]

Creates an API token for scripts and CI and prints it once: send it as
\`Authorization: Bearer <token>\`. MCM keeps only a keyed hash; a lost token can't be shown
again (revoke it and create another). Tokens made by the CLI belong to no admin user.

Options:
  --name NAME          letters, digits, ".", "_" and "-" (at most 64)
  --role ROLE          viewer, auditor, operator or admin
  --expires DURATION   e.g. 90d, 12h or 30m (default: never)
  --json               print {"name", "token", "role", "expires_at", …} as JSON
${COMMON_USAGE}`;

const listUsage = `Usage: mcm tokens list [--json]

Lists API tokens: name, role (and the role it acts with now), creator, expiry, status and last
use. Never the token itself.

Options:
  --json              a JSON array of tokens (the API's fields)
${COMMON_USAGE}`;

const revokeUsage = `Usage: mcm tokens revoke NAME

Revokes the API token NAME at once: its next request is refused (401) and open live streams
using it are closed.
${COMMON_USAGE}`;

const tokensCreateCommand: CliCommand = {
  name: 'create',
  summary: 'create an API token (printed once)',
  usage: createUsage,
  run: async (argv, io) => {
    const { values } = parseCommandArgs(argv, {
      name: { type: 'string' }, role: { type: 'string' }, expires: { type: 'string' }, json: { type: 'boolean' },
    }, createUsage);
    if (values.help) {
      io.stdout(createUsage);
      return EXIT.OK;
    }
    if (values.name === undefined) throw new UsageError('tokens create: --name is required', createUsage);
    if (values.role === undefined) throw new UsageError('tokens create: --role is required', createUsage);
    const created = await withTokensBackend(io, values.config, (b) => b.create({ name: values.name!, role: values.role!, expires: values.expires ?? null }));
    if (values.json) {
      io.stdout(`${JSON.stringify(created, null, 2)}\n`);
    } else {
      io.stdout(`created API token ${JSON.stringify(created.name)} with role ${created.role}${created.expires_at === null ? ' (no expiry)' : `, expires ${created.expires_at}`}\n`
        + `token (shown once): ${created.token}\n`);
    }
    return EXIT.OK;
  },
};

const role = (t: TokenView): string => (t.effective_role === null || t.effective_role === t.role ? t.role : `${t.role} (acts as ${t.effective_role})`);

const tokensListCommand: CliCommand = {
  name: 'list',
  summary: 'list API tokens',
  usage: listUsage,
  run: async (argv, io) => {
    const { values } = parseCommandArgs(argv, { json: { type: 'boolean' } }, listUsage);
    if (values.help) {
      io.stdout(listUsage);
      return EXIT.OK;
    }
    const tokens = await withTokensBackend(io, values.config, (b) => b.list());
    if (values.json) io.stdout(`${JSON.stringify(tokens, null, 2)}\n`);
    else if (tokens.length === 0) io.stdout('no API tokens\n');
    else {
      io.stdout(formatTable([
        ['NAME', 'ROLE', 'CREATOR', 'EXPIRES', 'STATUS', 'LAST USED'],
        ...tokens.map((t) => [t.name, role(t), t.owner ?? '(cli)', t.expires_at ?? 'never', t.status, t.last_used_at === null ? 'never' : `${t.last_used_at} from ${t.last_used_ip ?? '?'}`]),
      ]));
    }
    return EXIT.OK;
  },
};

const tokensRevokeCommand: CliCommand = {
  name: 'revoke',
  summary: 'revoke an API token at once',
  usage: revokeUsage,
  run: async (argv, io) => {
    const { values, positionals } = parseCommandArgs(argv, {}, revokeUsage, { max: 1 });
    if (values.help) {
      io.stdout(revokeUsage);
      return EXIT.OK;
    }
    const name = nameArgument(positionals, 'NAME (the token name)', revokeUsage);
    await withTokensBackend(io, values.config, (b) => b.revoke(name));
    io.stdout(`revoked API token ${JSON.stringify(name)}\n`);
    return EXIT.OK;
  },
};

export const tokensCommand = createCommandGroup({
  name: 'tokens',
  summary: 'manage API tokens for scripts and CI (through the running server, or on the data dir)',
  subcommands: [tokensCreateCommand, tokensListCommand, tokensRevokeCommand],
});
