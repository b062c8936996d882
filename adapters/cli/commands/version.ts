/** `mcm version` (also `mcm --version`): the MCM version from package.json and the Node version. */
import { readFileSync } from 'node:fs';
import { COMMON_USAGE, parseCommandArgs, projectFile, type CliCommand } from '../command.ts';

const usage = `Usage: mcm version [--json]

Prints the MCM version (from package.json) and the Node.js version running it.

Options:
  --json              print {"mcm": "...", "node": "..."} instead
${COMMON_USAGE}`;

export const versionCommand: CliCommand = {
  name: 'version',
  summary: 'print the MCM and Node.js versions',
  usage,
  run: async (argv, io) => {
    const { values } = parseCommandArgs(argv, { json: { type: 'boolean' } }, usage);
    if (values.help) {
      io.stdout(usage);
      return 0;
    }
    const pkg = JSON.parse(readFileSync(projectFile('package.json'), 'utf8')) as { version: string };
    const info = { mcm: pkg.version, node: process.version };
    io.stdout(values.json ? `${JSON.stringify(info)}\n` : `mcm ${info.mcm} (node ${info.node})\n`);
    return 0;
  },
};
