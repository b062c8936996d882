/** `mcm events …`: the event log on the data dir. */
import { createCommandGroup } from '../command-group.ts';
import { eventsListCommand } from './events-list.ts';
import { eventsReplayCommand } from './events-replay.ts';
import { eventsVerifyCommand } from './events-verify.ts';

export const eventsCommand = createCommandGroup({
  name: 'events',
  summary: 'read and verify the event log',
  subcommands: [eventsListCommand, eventsVerifyCommand, eventsReplayCommand],
});
