/** `mcm config validate`: loads the configuration as the server would and reports every problem. */
import { ConfigError } from '../../config/load.ts';
import { COMMON_USAGE, EXIT, loadCliConfig, parseCommandArgs, type CliCommand } from '../command.ts';

const usage = `Usage: mcm config validate [--config FILE]

Loads the configuration exactly as the server does (built-in defaults, then the file, then
the MCM_* environment variables) and checks it. Prints "valid" and any warnings, or every
problem found, each with its path (/http/port) or variable (MCM_HTTP_PORT).

Exit status: 0 valid, 1 invalid, 64 bad arguments.
${COMMON_USAGE}`;

export const configValidateCommand: CliCommand = {
  name: 'validate',
  summary: 'check the configuration file and MCM_* variables, listing every problem',
  usage,
  run: async (argv, io) => {
    const { values } = parseCommandArgs(argv, {}, usage);
    if (values.help) {
      io.stdout(usage);
      return 0;
    }
    try {
      const { source, warnings } = loadCliConfig(io, values.config);
      for (const w of warnings) io.stderr(`warning: ${w}\n`);
      io.stdout(`valid: ${source ?? 'built-in defaults (no config file)'}\n`);
      return EXIT.OK;
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      const where = err.source ?? 'built-in defaults and environment';
      const n = err.problems.length;
      io.stderr(`invalid: ${where}: ${n} problem${n === 1 ? '' : 's'}\n${err.problems.map((p) => `  - ${p}\n`).join('')}`);
      return EXIT.FAILURE;
    }
  },
};
