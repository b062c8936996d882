/** `mcm events verify`: walks the hash chain of the event log (DESIGN §4). */
import { verifyChain } from '../../sqlite/event-store.ts';
import { COMMON_USAGE, EXIT, parseCommandArgs, type CliCommand } from '../command.ts';
import { openEventLog } from '../open-event-log.ts';

const usage = `Usage: mcm events verify [--json]

Recomputes the hash of every event in <data_dir>/mcm.db, checks each link to the previous
event and that the chain head names the last event, so an edited, inserted or deleted row
(including a deleted tail) is detected. Names the first seq that does not match.

Exit status: 0 the chain is intact, 1 it is broken (or there is no event log), 64 bad arguments.

Options:
  --json              print the result as JSON
${COMMON_USAGE}`;

export const eventsVerifyCommand: CliCommand = {
  name: 'verify',
  summary: 'verify the hash chain of the event log',
  usage,
  run: async (argv, io) => {
    const { values } = parseCommandArgs(argv, { json: { type: 'boolean' } }, usage);
    if (values.help) {
      io.stdout(usage);
      return 0;
    }
    const log = openEventLog(io, values.config, 'events verify');
    if (log === null) return EXIT.FAILURE;
    let result;
    try {
      result = verifyChain(log.db);
    } finally {
      log.db.close();
    }
    if (values.json) io.stdout(`${JSON.stringify(result)}\n`);
    else if (result.ok) {
      io.stdout(`ok: ${result.count} event${result.count === 1 ? '' : 's'}, chain intact up to seq ${result.head} (head ${result.head_hash})\n`);
    } else {
      io.stderr(`event chain BROKEN at seq ${result.first_bad_seq}: ${result.reason}: ${result.detail}\n`);
    }
    return result.ok ? EXIT.OK : EXIT.FAILURE;
  },
};
