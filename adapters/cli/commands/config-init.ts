/** `mcm config init`: writes the documented example configuration (mcm.example.yaml) to a file. */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { COMMON_USAGE, EXIT, parseCommandArgs, projectFile, type CliCommand } from '../command.ts';

const usage = `Usage: mcm config init [--output FILE] [--force]

Writes a configuration file holding every key with its default value and a comment explaining
it (the content of mcm.example.yaml). Edit it, then check it with \`mcm config validate\`.

Options:
  -o, --output FILE   where to write (default: ./mcm.yaml)
  -f, --force         overwrite FILE if it exists
${COMMON_USAGE}`;

export const configInitCommand: CliCommand = {
  name: 'init',
  summary: 'write a documented mcm.yaml with every default',
  usage,
  run: async (argv, io) => {
    const { values } = parseCommandArgs(argv, {
      output: { type: 'string', short: 'o' },
      force: { type: 'boolean', short: 'f' },
    }, usage);
    if (values.help) {
      io.stdout(usage);
      return 0;
    }
    const target = resolve(io.cwd, values.output ?? 'mcm.yaml');
    const text = readFileSync(projectFile('mcm.example.yaml'), 'utf8');
    try {
      // 'wx' fails if the file exists, so there is no window between checking and writing.
      writeFileSync(target, text, { flag: values.force ? 'w' : 'wx', mode: 0o644 });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') {
        io.stderr(`mcm config init: ${target} already exists; not overwriting it (use --force to replace it)\n`);
      } else {
        io.stderr(`mcm config init: cannot write ${target}: ${(err as Error).message}\n`);
      }
      return EXIT.FAILURE;
    }
    io.stdout(`wrote ${target}\n`);
    return EXIT.OK;
  },
};
