/** `mcm events verify`: walks the hash chain of the event log (DESIGN §4). */
import { dirname } from 'node:path';
import { createSecretStore } from '../../secrets/secret-store.ts';
import { SNAPSHOT_KEY_NAME, verifyChain, verifySnapshots } from '../../sqlite/event-store.ts';
import { COMMON_USAGE, EXIT, parseCommandArgs, type CliCommand } from '../command.ts';
import { openEventLog } from '../open-event-log.ts';

const usage = `Usage: mcm events verify [--json]

Recomputes the hash of every event in <data_dir>/mcm.db, checks each link to the previous
event and that the chain head names the last event, so an edited, inserted or deleted row
(including a deleted tail) is detected. Names the first seq that does not match. Then checks
every snapshot (the start-up cache of the folded state) against its HMAC, whose key is in
<data_dir>/secrets/snapshot.key: an edited snapshot is named.

Exit status: 0 the chain and the snapshots are intact, 1 the chain is broken or a snapshot was
edited (or there is no event log), 64 bad arguments.

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
    let snapshots;
    try {
      result = verifyChain(log.db);
      let key: Buffer | null = null;
      try { key = createSecretStore(dirname(log.path)).read(SNAPSHOT_KEY_NAME); } catch { /* unreadable: reported per snapshot */ }
      snapshots = verifySnapshots(log.db, key);
    } finally {
      log.db.close();
    }
    // A stale snapshot (its event replaced by a restore) is ignored at start and harmless; an edited one is not.
    const edited = snapshots.bad.filter((b) => !b.reason.startsWith('taken at an event'));
    if (values.json) io.stdout(`${JSON.stringify({ ...result, snapshots })}\n`);
    else {
      if (result.ok) io.stdout(`ok: ${result.count} event${result.count === 1 ? '' : 's'}, chain intact up to seq ${result.head} (head ${result.head_hash})\n`);
      else io.stderr(`event chain BROKEN at seq ${result.first_bad_seq}: ${result.reason}: ${result.detail}\n`);
      for (const b of snapshots.bad) io.stderr(`snapshot at seq ${b.seq}: ${b.reason}\n`);
      if (result.ok && snapshots.checked > 0 && snapshots.bad.length === 0) io.stdout(`ok: ${snapshots.checked} snapshot${snapshots.checked === 1 ? '' : 's'} match their HMAC\n`);
    }
    return result.ok && edited.length === 0 ? EXIT.OK : EXIT.FAILURE;
  },
};
