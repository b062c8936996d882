/** `mcm backup …`: snapshots of the data dir and their restore (docs/operations.md, "Backups"). */
import { createCommandGroup } from '../command-group.ts';
import { backupCreateCommand } from './backup-create.ts';
import { backupRestoreCommand } from './backup-restore.ts';

export const backupCommand = createCommandGroup({
  name: 'backup',
  summary: 'back up and restore the event log and secrets',
  subcommands: [backupCreateCommand, backupRestoreCommand],
});
