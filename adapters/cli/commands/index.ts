/**
 * The command registry, in the order `mcm --help` lists them. To add a command, write
 * commands/<name>.ts exporting a CliCommand, import it here and add it to the list.
 */
import type { CliCommand } from '../command.ts';
import { aclCommand } from './acl.ts';
import { adminsCommand } from './admins.ts';
import { applyCommand } from './apply.ts';
import { backupCommand } from './backup.ts';
import { brokerCommand } from './broker.ts';
import { certsCommand } from './certs.ts';
import { configCommand } from './config.ts';
import { doctorCommand } from './doctor.ts';
import { eventsCommand } from './events.ts';
import { exportCommand } from './export.ts';
import { importCommand } from './import.ts';
import { migrateCommand } from './migrate.ts';
import { planCommand } from './plan.ts';
import { serverCommand } from './server.ts';
import { statusCommand } from './status.ts';
import { tokensCommand } from './tokens.ts';
import { usersCommand } from './users.ts';
import { versionCommand } from './version.ts';

export const COMMANDS: readonly CliCommand[] = [
  aclCommand,
  adminsCommand,
  applyCommand,
  backupCommand,
  brokerCommand,
  certsCommand,
  configCommand,
  doctorCommand,
  eventsCommand,
  exportCommand,
  importCommand,
  migrateCommand,
  planCommand,
  serverCommand,
  statusCommand,
  tokensCommand,
  usersCommand,
  versionCommand,
];
