/**
 * The one path for every change (STYLE principle 2): read state → decide → append, synchronous,
 * with no await between reading and appending (principle 3), so with DatabaseSync the step is
 * atomic in this process.
 */
import type { Command } from './commands.ts';
import { decide } from './decide.ts';
import { DomainError, ERROR_CODES } from './errors.ts';
import type { Actor, EventEnvelope } from './events.ts';
import type { Clock, EventStore } from './ports.ts';
import { targetStream } from './streams.ts';

export type CommandContext = Readonly<{ actor: Actor; expectedSeq?: number }>;
export type CommandResult = Readonly<{ seq: number; events: readonly EventEnvelope[] }>;

export const handleCommand = (
  deps: Readonly<{ store: EventStore; clock: Clock }>,
  command: Command,
  ctx: CommandContext,
): CommandResult => {
  const state = deps.store.state();
  const stream = targetStream(command, state);
  // Stale is checked before deciding so an outdated client gets 412, not a confusing 404/409.
  if (ctx.expectedSeq !== undefined && deps.store.lastSeqOf(stream) > ctx.expectedSeq) {
    throw new DomainError(ERROR_CODES.STALE_STREAM, `${stream} changed after seq ${ctx.expectedSeq}`, [
      { stream, expected_seq: ctx.expectedSeq, current_seq: deps.store.lastSeqOf(stream) },
    ]);
  }
  const events = decide(command, state);
  if (events.length === 0) return { seq: deps.store.headSeq(), events: [] };
  const recorded = deps.store.append(events, {
    actor: ctx.actor,
    at: deps.clock.now(),
    ...(ctx.expectedSeq === undefined ? {} : { expectedSeq: ctx.expectedSeq }),
    targetStream: stream,
  });
  return { seq: recorded[recorded.length - 1]?.seq ?? deps.store.headSeq(), events: recorded };
};
