/** `mcm events list`: the event log, oldest first, with secret-ish payload fields redacted. */
import type { EventEnvelope } from '../../../core/events.ts';
import type { DatabaseSync } from 'node:sqlite';
import { createSqliteEventStore, toEnvelope } from '../../sqlite/event-store.ts';
import { COMMON_USAGE, EXIT, intOption, parseCommandArgs, UsageError, type CliCommand } from '../command.ts';
import { openEventLog } from '../open-event-log.ts';
import { redactSecrets } from '../redact-secrets.ts';

const usage = `Usage: mcm events list [--after SEQ] [--stream STREAM] [--limit N] [--newest-first] [--json]

Lists the events of the log in <data_dir>/mcm.db, oldest first (or newest first). Payload fields
holding hashes, secrets or ciphertext are shown as [redacted].

Options:
  --after SEQ         only events with a seq greater than SEQ
  --stream STREAM     only events of one stream, e.g. mqtt-user:alice, role:ops, settings
  --limit N           at most N events (with --newest-first: the N newest)
  -r, --newest-first  newest first: \`mcm events list -r --limit 20\` shows the last 20 changes
  --json              a JSON array of event envelopes
${COMMON_USAGE}`;

const redact = (e: EventEnvelope) => ({ ...e, data: redactSecrets(e.data) });

/** The newest events first, read newest first (no need to load the whole log for the last 20). */
const newestFirst = (db: DatabaseSync, q: { after: number; limit: number; stream: string | null }): EventEnvelope[] =>
  (db.prepare(`SELECT seq, stream, type, version, data, actor, at, prev_hash, hash FROM events
    WHERE seq > ? AND (? IS NULL OR stream = ?) ORDER BY seq DESC LIMIT ?`).all(q.after, q.stream, q.stream, q.limit) as unknown as Parameters<typeof toEnvelope>[0][])
    .map(toEnvelope);

const table = (events: ReturnType<typeof redact>[]): string => {
  const rows = [['SEQ', 'AT', 'STREAM', 'TYPE', 'ACTOR', 'DATA'], ...events.map((e) => [
    String(e.seq), e.at, e.stream, e.type, `${e.actor.kind}:${e.actor.id}`, JSON.stringify(e.data),
  ])];
  const widths = [0, 1, 2, 3, 4].map((i) => Math.max(...rows.map((r) => r[i]?.length ?? 0)));
  return rows.map((r) => r.map((cell, i) => (i < 5 ? cell.padEnd(widths[i] ?? 0) : cell)).join('  ').trimEnd() + '\n').join('');
};

export const eventsListCommand: CliCommand = {
  name: 'list',
  summary: 'list events (secrets redacted)',
  usage,
  run: async (argv, io) => {
    const { values } = parseCommandArgs(argv, {
      after: { type: 'string' },
      stream: { type: 'string' },
      limit: { type: 'string' },
      'newest-first': { type: 'boolean', short: 'r' },
      json: { type: 'boolean' },
    }, usage);
    if (values.help) {
      io.stdout(usage);
      return 0;
    }
    const after = intOption('after', values.after, 0, usage);
    const limit = intOption('limit', values.limit, 1, usage);
    if (values.stream === '') throw new UsageError('--stream must not be empty', usage);
    const log = openEventLog(io, values.config, 'events list');
    if (log === null) return EXIT.FAILURE;
    try {
      const events = (values['newest-first'] === true
        ? newestFirst(log.db, { after: after ?? 0, limit: limit ?? -1, stream: values.stream ?? null })
        : createSqliteEventStore({ db: log.db, snapshotEvery: 0 }).read({
          ...(after === undefined ? {} : { after }),
          ...(limit === undefined ? {} : { limit }),
          ...(values.stream === undefined ? {} : { stream: values.stream }),
        })).map(redact);
      if (values.json) io.stdout(`${JSON.stringify(events, null, 2)}\n`);
      else io.stdout(events.length === 0 ? 'no events\n' : table(events));
      return EXIT.OK;
    } finally {
      log.db.close();
    }
  },
};
