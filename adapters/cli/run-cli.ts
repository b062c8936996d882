/**
 * The `mcm` command line (bin/mcm runs ./main.ts on the project's Node 24, which runs this).
 * Global options come before the command name; each command parses its own arguments with
 * node:util parseArgs.
 */
import { isDomainError } from '../../core/errors.ts';
import { ConfigError } from '../config/load.ts';
import { ENV_VARS } from '../config/env-overrides.ts';
import { EXIT, UsageError, type CliCommand, type CliIo } from './command.ts';

const listing = (commands: readonly CliCommand[]): string => {
  const lines = commands.flatMap((c) =>
    c.subcommands ? c.subcommands.map((s) => [`${c.name} ${s.name}`, s.summary]) : [[c.name, c.summary]]);
  const width = Math.max(...lines.map(([n]) => n?.length ?? 0)) + 2;
  return lines.map(([n, s]) => `  ${(n ?? '').padEnd(width)}${s ?? ''}\n`).join('');
};

const wrap = (words: readonly string[], indent: string, width: number): string => {
  const lines: string[] = [];
  let line = indent;
  for (const w of words) {
    if (line.length > indent.length && line.length + 1 + w.length > width) {
      lines.push(line);
      line = indent;
    }
    line += line.length > indent.length ? ` ${w}` : w;
  }
  return `${[...lines, line].join('\n')}\n`;
};

export const mainUsage = (commands: readonly CliCommand[]): string => `mcm — Mosquitto Control Manager

Usage: mcm [--config FILE] <command> [options]
       mcm <command> --help

Commands:
${listing(commands)}
Global options:
  -c, --config FILE   configuration file (wins over $MCM_CONFIG; default: built-in defaults)
  -h, --help          show this help
  -V, --version       same as \`mcm version\`

Environment (wins over the config file; see mcm.example.yaml):
${wrap(ENV_VARS, '  ', 78)}
Exit status:
  0   success
  1   failure, or a check failed (invalid config, broken event chain)
  2   differences found (reserved for \`mcm plan\`)
  64  usage error: unknown command or bad arguments
`;

const usageError = (io: CliIo, message: string, usage: string): number => {
  io.stderr(`mcm: ${message}\n\n${usage}`);
  return EXIT.USAGE;
};

const report = (io: CliIo, err: unknown, fallbackUsage: string): number => {
  if (err instanceof UsageError) return usageError(io, err.message, err.usage ?? fallbackUsage);
  if (err instanceof ConfigError) {
    io.stderr(`mcm: ${err.message}\n`);
    return EXIT.FAILURE;
  }
  if (isDomainError(err)) {
    io.stderr(`mcm: ${err.code}: ${err.message}\n`);
    return EXIT.FAILURE;
  }
  io.stderr(`mcm: ${err instanceof Error ? err.message : String(err)}\n`);
  if (io.env['MCM_LOG_LEVEL'] === 'debug' || io.env['MCM_LOG_LEVEL'] === 'trace') io.stderr(`${(err as Error).stack ?? ''}\n`);
  return EXIT.FAILURE;
};

/** Runs one invocation; returns the exit code. Never calls process.exit, so tests can call it. */
export const runCli = async (argv: readonly string[], io: CliIo, only?: readonly CliCommand[]): Promise<number> => {
  const commands = only ?? (await import('./commands/index.ts')).COMMANDS;
  const usage = mainUsage(commands);
  let configFile: string | undefined;
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (!arg.startsWith('-')) break;
    if (arg === '-h' || arg === '--help') {
      io.stdout(usage);
      return EXIT.OK;
    }
    if (arg === '-V' || arg === '--version') return runCli(['version', ...argv.slice(i + 1)], { ...io, ...(configFile === undefined ? {} : { configFile }) }, commands);
    if (arg === '-c' || arg === '--config') {
      const value = argv[i + 1];
      if (value === undefined || value === '') return usageError(io, `${arg} needs a file name`, usage);
      configFile = value;
      i++;
    } else if (arg.startsWith('--config=')) {
      configFile = arg.slice('--config='.length);
      if (configFile === '') return usageError(io, '--config needs a file name', usage);
    } else {
      return usageError(io, `unknown option "${arg}"`, usage);
    }
  }
  const name = argv[i];
  if (name === undefined) return usageError(io, 'no command given', usage);
  if (name === 'help') {
    const topic = argv[i + 1];
    const found = topic === undefined ? undefined : commands.find((c) => c.name === topic);
    if (topic !== undefined && !found) return usageError(io, `unknown command "${topic}"`, usage);
    io.stdout(found ? found.usage : usage);
    return EXIT.OK;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) return usageError(io, `unknown command "${name}"`, usage);
  try {
    return await command.run(argv.slice(i + 1), { ...io, ...(configFile === undefined ? {} : { configFile }) });
  } catch (err) {
    return report(io, err, command.usage);
  }
};

const readStdin = async (): Promise<string> => {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
};

/**
 * The command an argv names, when it is unambiguous: global options (--config FILE) skipped; null
 * for anything else (help, version, an unknown option), which the whole registry handles.
 */
export const commandName = (argv: readonly string[]): string | null => {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '-c' || arg === '--config') i++;
    else if (arg.startsWith('--config=')) continue;
    else return arg.startsWith('-') ? null : arg;
  }
  return null;
};

/** `mcm …` as a process: argv, the process's streams, environment and stdin (./main.ts). */
export const runMain = async (): Promise<number> => {
  // `mcm events list | head` closes the pipe early; that is not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(EXIT.OK);
    throw err;
  });
  const argv = process.argv.slice(2);
  // `mcm server` loads its own modules only, not every command's (issue 14: the doctor's MQTT
  // client, the export's YAML writer … were a tenth of the server's start).
  const only = commandName(argv) === 'server' ? [(await import('./commands/server.ts')).serverCommand] : undefined;
  return runCli(argv, {
    stdout: (s) => { process.stdout.write(s); },
    stderr: (s) => { process.stderr.write(s); },
    env: process.env,
    cwd: process.cwd(),
    stdin: readStdin,
  }, only);
};
