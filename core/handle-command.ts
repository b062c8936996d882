/**
 * The one path for every change (STYLE principle 2): read state → decide → append, synchronous,
 * with no await between reading and appending (principle 3), inside the store's write
 * transaction, so the step is atomic across processes too (EventStore.transact).
 */
import { decideContext } from './decide.ts';
import type { BrokerConfigContext } from './decide/broker-config.ts';
import type { Command } from './commands.ts';
import { decide } from './decide.ts';
import { DomainError, ERROR_CODES } from './errors.ts';
import type { Actor, EventEnvelope } from './events.ts';
import type { Clock, EventStore } from './ports.ts';
import { targetStream } from './streams.ts';

export type CommandContext = Readonly<{ actor: Actor; expectedSeq?: number }>;
export type CommandResult = Readonly<{ seq: number; events: readonly EventEnvelope[] }>;

export const handleCommand = (
  /** `serviceAccount`: MCM's own MQTT account, reserved by decide (DecideContext). */
  deps: Readonly<{ store: EventStore; clock: Clock; serviceAccount?: string; broker?: BrokerConfigContext }>,
  command: Command,
  ctx: CommandContext,
): CommandResult => {
  // Decided inside the store's write transaction, on the state with every other writer's events
  // folded in: a second process on the same data dir can't decide on a state that moved under it.
  const recorded = deps.store.transact((view) => {
    const stream = targetStream(command, view.state);
    // Stale is checked before deciding so an outdated client gets 412, not a confusing 404/409.
    if (ctx.expectedSeq !== undefined && view.lastSeqOf(stream) > ctx.expectedSeq) {
      throw new DomainError(ERROR_CODES.STALE_STREAM, `${stream} changed after seq ${ctx.expectedSeq}`, [
        { stream, expected_seq: ctx.expectedSeq, current_seq: view.lastSeqOf(stream) },
      ]);
    }
    return decide(command, view.state, decideContext(deps));
  }, { actor: ctx.actor, at: deps.clock.now() });
  return { seq: recorded[recorded.length - 1]?.seq ?? deps.store.headSeq(), events: recorded };
};
