/**
 * A command made of subcommands (`mcm config init`, `mcm events list`): `mcm config --help`
 * lists them, `mcm config <sub> …` runs one, anything else is a usage error.
 */
import { UsageError, type CliCommand } from './command.ts';

export const createCommandGroup = (group: { name: string; summary: string; subcommands: readonly CliCommand[] }): CliCommand => {
  const names = group.subcommands.map((c) => c.name).join(', ');
  const width = Math.max(...group.subcommands.map((c) => c.name.length)) + 2;
  const usage =
    `Usage: mcm ${group.name} <subcommand> [options]\n\n${group.summary}\n\nSubcommands:\n` +
    group.subcommands.map((c) => `  ${c.name.padEnd(width)}${c.summary}\n`).join('') +
    `\nRun \`mcm ${group.name} <subcommand> --help\` for its options.\n`;
  return {
    name: group.name,
    summary: group.summary,
    usage,
    subcommands: group.subcommands,
    run: async (argv, io) => {
      const [first, ...rest] = argv;
      if (first === '--help' || first === '-h' || first === 'help') {
        io.stdout(usage);
        return 0;
      }
      if (first === undefined) throw new UsageError(`${group.name}: missing subcommand (${names})`, usage);
      const sub = group.subcommands.find((c) => c.name === first);
      if (!sub) throw new UsageError(`${group.name}: unknown subcommand "${first}" (expected ${names})`, usage);
      return sub.run(rest, io);
    },
  };
};
