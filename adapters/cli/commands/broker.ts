/**
 * `mcm broker show|plan|apply` (issue "Broker configuration as events"): mosquitto.conf's
 * listeners, options, bridges and passthrough through the running server's API — the same
 * preview and confirmation as `POST /broker/config/preview` and `PUT /broker/config`. `plan`
 * exits 0 when nothing would change and 2 when something would (like `mcm plan`); `apply` asks
 * before a restart unless --yes, and confirms with the previewed seq (If-Match).
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { DomainError } from '../../../core/errors.ts';
import { createCommandGroup } from '../command-group.ts';
import { connectToServer, type ApiClient } from '../api-client.ts';
import { COMMON_USAGE, EXIT, loadCliConfig, parseCommandArgs, UsageError, type CliCommand, type CliIo } from '../command.ts';
import { DATA_ACCESS_ERROR_CODES, osUser } from '../data-access.ts';
import { readServerInfo } from '../server-lock.ts';
import { serverCertOf, ttyConfirm } from '../server-apply.ts';

type Preview = {
  seq: number; restart_needed: boolean; clients_dropped: number | null; diff: string;
  changes: { what: string; kind: string; apply: string }[];
};

const serverApi = (io: CliIo, configOption: string | undefined): ApiClient => {
  const { config } = loadCliConfig(io, configOption);
  const server = readServerInfo(config.data_dir);
  if (server === null) {
    throw new DomainError(DATA_ACCESS_ERROR_CODES.NO_SERVER,
      `mcm broker needs the running MCM server (none holds ${config.data_dir}): it renders mosquitto.conf for the broker it supervises; start it with mcm server`, []);
  }
  return connectToServer(config.data_dir, server, { user: osUser(), serverCert: serverCertOf(config) });
};

/** The configuration from a JSON or YAML file (`-` for stdin): {listeners, options, bridges, passthrough}. */
const readConfigFile = async (io: CliIo, file: string | undefined, usage: string): Promise<unknown> => {
  if (!file) throw new UsageError('give the configuration with -f FILE (JSON or YAML)', usage);
  const text = file === '-' ? await (io.stdin?.() ?? Promise.resolve('')) : readFileSync(file, 'utf8');
  try {
    const doc = parseYaml(text) as unknown;
    return doc !== null && typeof doc === 'object' && 'config' in (doc as object) ? (doc as { config: unknown }).config : doc;
  } catch (e) {
    throw new UsageError(`${file} is neither JSON nor YAML: ${(e as Error).message}`, usage);
  }
};

const describe = (p: Preview): string => {
  if (p.changes.length === 0) return 'no changes: the broker already runs this configuration\n';
  const lines = p.changes.map((c) => `  ${c.kind.padEnd(7)} ${c.what} (${c.apply})`);
  const restart = p.restart_needed
    ? `restart needed${p.clients_dropped ? `: ${p.clients_dropped} connected client${p.clients_dropped === 1 ? '' : 's'} will be disconnected (they reconnect)` : ''}`
    : 'applied with a reload (no client is disconnected)';
  return `${p.changes.length} change${p.changes.length === 1 ? '' : 's'}, ${restart}:\n${lines.join('\n')}\n\n${p.diff}`;
};

const showUsage = `Usage: mcm broker show [--json]

Prints the mosquitto.conf MCM writes for the supervised broker (bridge passwords as ********),
or with --json the configuration: listeners, options, bridges, passthrough, the directive catalog.
${COMMON_USAGE}`;

const planUsage = `Usage: mcm broker plan -f FILE [--json]

Previews a broker configuration (JSON or YAML: listeners, options, bridges, passthrough; "-"
reads stdin) against the running one: the changes, whether they restart the broker and how many
clients that disconnects, and the diff of mosquitto.conf. Exit codes: 0 no changes, 2 changes,
1 refused (the reasons are printed).
${COMMON_USAGE}`;

const applyUsage = `Usage: mcm broker apply -f FILE [--yes] [--json]

Previews, then applies a broker configuration (JSON or YAML). A change that restarts the broker
asks first (or needs --yes) and is confirmed with the previewed state (If-Match), so nothing
that changed since the preview is applied by accident. Exit codes: 0 applied or nothing to do,
1 refused or declined.
${COMMON_USAGE}`;

const show: CliCommand = {
  name: 'show', summary: "show the broker's mosquitto.conf as MCM writes it", usage: showUsage,
  run: async (argv, io) => {
    const { values } = parseCommandArgs(argv, { json: { type: 'boolean' } }, showUsage);
    if (values.help) { io.stdout(showUsage); return EXIT.OK; }
    const body = (await serverApi(io, values.config).request('GET', '/broker/config')).body as { rendered: string | null };
    io.stdout(values.json ? `${JSON.stringify(body, null, 2)}\n` : body.rendered ?? 'external mode: MCM does not write this broker\'s mosquitto.conf\n');
    return EXIT.OK;
  },
};

const plan: CliCommand = {
  name: 'plan', summary: 'preview a broker configuration (diff, restart needed)', usage: planUsage,
  run: async (argv, io) => {
    const { values } = parseCommandArgs(argv, { file: { type: 'string', short: 'f' }, json: { type: 'boolean' } }, planUsage);
    if (values.help) { io.stdout(planUsage); return EXIT.OK; }
    const config = await readConfigFile(io, values.file, planUsage);
    const p = (await serverApi(io, values.config).request('POST', '/broker/config/preview', { config })).body as Preview;
    io.stdout(values.json ? `${JSON.stringify(p, null, 2)}\n` : describe(p));
    return p.changes.length === 0 ? EXIT.OK : EXIT.CHANGES;
  },
};

const apply: CliCommand = {
  name: 'apply', summary: 'apply a broker configuration (asks before a restart)', usage: applyUsage,
  run: async (argv, io) => {
    const { values } = parseCommandArgs(argv, { file: { type: 'string', short: 'f' }, yes: { type: 'boolean', short: 'y' }, json: { type: 'boolean' } }, applyUsage);
    if (values.help) { io.stdout(applyUsage); return EXIT.OK; }
    const config = await readConfigFile(io, values.file, applyUsage);
    const api = serverApi(io, values.config);
    const p = (await api.request('POST', '/broker/config/preview', { config })).body as Preview;
    if (p.changes.length === 0) { io.stdout(values.json ? `${JSON.stringify({ applied: false, changes: [] })}\n` : describe(p)); return EXIT.OK; }
    if (!values.json) io.stdout(describe(p));
    if (p.restart_needed && values.yes !== true) {
      const ok = process.stdin.isTTY ? await ttyConfirm('Restart the broker with this configuration? [y/N] ') : false;
      if (!ok) { io.stderr('not applied: the change restarts the broker; confirm with --yes\n'); return EXIT.FAILURE; }
    }
    const res = await api.request('PUT', '/broker/config', { config }, { 'if-match': `"${p.seq}"` });
    io.stdout(values.json ? `${JSON.stringify(res.body, null, 2)}\n` : 'applied: see mcm status for the broker\'s confirmation\n');
    return EXIT.OK;
  },
};

export const brokerCommand = createCommandGroup({
  name: 'broker',
  summary: "the broker's mosquitto.conf: listeners, TLS, limits, bridges (through the running server)",
  subcommands: [show, plan, apply],
});
