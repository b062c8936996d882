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
import type { Clock, EventStore, GroupItem } from './ports.ts';
import { targetStream } from './streams.ts';

export type CommandContext = Readonly<{ actor: Actor; expectedSeq?: number }>;
export type CommandResult = Readonly<{ seq: number; events: readonly EventEnvelope[] }>;

type Deps = Readonly<{ store: EventStore; clock: Clock; serviceAccount?: string; broker?: BrokerConfigContext; backend?: 'files' | 'dynsec' }>;

/**
 * A command as one item of the store's write transaction: the stale check and decide, run on
 * the state the transaction sees. handleCommand runs one alone; the HTTP adapter may run several
 * in one commit (EventStore.transactGroup), each still decided on the state before it.
 */
export const commandItem = (deps: Deps, command: Command, ctx: CommandContext): GroupItem<never> => ({
  decide: (view) => {
    const stream = targetStream(command, view.state);
    // Stale is checked before deciding so an outdated client gets 412, not a confusing 404/409.
    if (ctx.expectedSeq !== undefined && view.lastSeqOf(stream) > ctx.expectedSeq) {
      throw new DomainError(ERROR_CODES.STALE_STREAM, `${stream} changed after seq ${ctx.expectedSeq}`, [
        { stream, expected_seq: ctx.expectedSeq, current_seq: view.lastSeqOf(stream) },
      ]);
    }
    return decide(command, view.state, decideContext(deps));
  },
  meta: { actor: ctx.actor, at: deps.clock.now() },
});

/** What a command's caller gets: the last seq it appended (the head when it appended nothing). */
export const commandResult = (store: EventStore, recorded: readonly EventEnvelope[]): CommandResult =>
  ({ seq: recorded[recorded.length - 1]?.seq ?? store.headSeq(), events: recorded });

export const handleCommand = (
  /** `serviceAccount`: MCM's own MQTT account, reserved by decide (DecideContext). */
  deps: Deps,
  command: Command,
  ctx: CommandContext,
): CommandResult => {
  // Decided inside the store's write transaction, on the state with every other writer's events
  // folded in: a second process on the same data dir can't decide on a state that moved under it.
  const { decide: decideIn, meta } = commandItem(deps, command, ctx);
  return commandResult(deps.store, deps.store.transact(decideIn, meta));
};
