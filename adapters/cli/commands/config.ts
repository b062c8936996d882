/** `mcm config …`: the configuration file. */
import { createCommandGroup } from '../command-group.ts';
import { configInitCommand } from './config-init.ts';
import { configValidateCommand } from './config-validate.ts';

export const configCommand = createCommandGroup({
  name: 'config',
  summary: 'create and check the configuration file',
  subcommands: [configInitCommand, configValidateCommand],
});
