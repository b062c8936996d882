/**
 * The shape of a CLI command, and the small kit every command shares: exit codes, usage errors,
 * argument parsing with the global options, and config loading.
 */
import { fileURLToPath } from 'node:url';
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';
import { loadConfig, type LoadedConfig } from '../config/load.ts';

/** Everything a command may touch, so tests can run commands in-process with fakes. */
export type CliIo = {
  stdout(s: string): void;
  stderr(s: string): void;
  env: NodeJS.ProcessEnv;
  cwd: string;
  stdin?: () => Promise<string>;
  /** A `--config F` given before the command name (`mcm --config F events list`). */
  configFile?: string;
};

export type CliCommand = {
  name: string;
  /** One line for `mcm --help`. */
  summary: string;
  /** Full help text printed by `--help`, ending in a newline. */
  usage: string;
  /** Returns the process exit code (see EXIT). */
  run(argv: string[], io: CliIo): Promise<number>;
  /** For command groups (`mcm config init`): listed one by one in `mcm --help`. */
  subcommands?: readonly CliCommand[];
};

/** Exit codes, documented in `mcm --help`. 64 is EX_USAGE from BSD sysexits.h. */
export const EXIT = { OK: 0, FAILURE: 1, CHANGES: 2, USAGE: 64 } as const;

/** Bad arguments: main prints the message and the command's usage to stderr and exits 64. */
export class UsageError extends Error {
  readonly usage: string | null;
  constructor(message: string, usage: string | null = null) {
    super(message);
    this.name = 'UsageError';
    this.usage = usage;
  }
}

/** Options every command accepts. */
export const COMMON_OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  config: { type: 'string', short: 'c' },
} as const satisfies ParseArgsOptionsConfig;

export const COMMON_USAGE = `
Common options:
  -c, --config FILE   configuration file (default: $MCM_CONFIG, else built-in defaults)
  -h, --help          show this help
`;

/**
 * node:util parseArgs (strict) plus the common options; its errors become UsageErrors carrying
 * the command's usage.
 */
export const parseCommandArgs = <O extends ParseArgsOptionsConfig>(
  argv: string[],
  options: O,
  usage: string,
  positionals: { min?: number; max?: number } = { max: 0 },
) => {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { ...COMMON_OPTIONS, ...options }, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message, usage);
  }
  const help = (parsed.values as { help?: boolean }).help === true;
  const count = parsed.positionals.length;
  if (!help && positionals.max !== undefined && count > positionals.max) {
    throw new UsageError(`unexpected argument ${JSON.stringify(parsed.positionals[positionals.max])}`, usage);
  }
  if (!help && positionals.min !== undefined && count < positionals.min) throw new UsageError('missing argument', usage);
  return parsed;
};

/** A non-negative integer option (`--after 10`), or a UsageError naming the option. */
export const intOption = (name: string, raw: string | undefined, min: number, usage: string): number | undefined => {
  if (raw === undefined) return undefined;
  const n = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min) throw new UsageError(`--${name} must be an integer >= ${min}, got ${JSON.stringify(raw)}`, usage);
  return n;
};

/** The resolved config; the command's own --config wins over a global one, which wins over MCM_CONFIG. */
export const loadCliConfig = (io: CliIo, configOption: string | undefined): LoadedConfig =>
  loadConfig({ file: configOption ?? io.configFile ?? null, env: io.env, cwd: io.cwd });

/** A file of the MCM installation itself (package.json, mcm.example.yaml), whatever the cwd. */
export const projectFile = (relative: string): string => fileURLToPath(new URL(`../../${relative}`, import.meta.url));
