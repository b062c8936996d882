/**
 * Runs the `mcm server` command module in this process with the real process io, so a test can
 * send it SIGTERM/SIGINT (the command is registered in adapters/cli/commands/index.ts by the lead;
 * this does not depend on that). Exit status = the command's return value.
 */
import { serverCommand } from '../../adapters/cli/commands/server.ts';

process.exitCode = await serverCommand.run(process.argv.slice(2), {
  stdout: (s) => { process.stdout.write(s); },
  stderr: (s) => { process.stderr.write(s); },
  env: process.env,
  cwd: process.cwd(),
});
