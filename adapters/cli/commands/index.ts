/**
 * The command registry, in the order `mcm --help` lists them. To add a command, write
 * commands/<name>.ts exporting a CliCommand, import it here and add it to the list.
 */
import type { CliCommand } from '../command.ts';
import { configCommand } from './config.ts';
import { eventsCommand } from './events.ts';
import { versionCommand } from './version.ts';

export const COMMANDS: readonly CliCommand[] = [
  configCommand,
  eventsCommand,
  versionCommand,
];
