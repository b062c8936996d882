/**
 * Several commands as ONE append, all or nothing (GitOps apply). handleCommand appends per
 * command; a GitOps plan is a list of commands where later ones depend on earlier ones (a role is
 * defined, then granted). So each command is decided against a scratch copy of the state into
 * which the events of the commands before it have been folded, and the events of all of them go
 * to the store in one transaction. A DomainError from any command means nothing is appended.
 */
import { decideContext } from './decide.ts';
import type { BrokerConfigContext } from './decide/broker-config.ts';
import type { Command } from './commands.ts';
import { decide, type DecideContext } from './decide.ts';
import { show } from './decide/guards.ts';
import { DomainError, ERROR_CODES, isDomainError } from './errors.ts';
import type { Actor, DomainEvent } from './events.ts';
import { evolve, type Recorded } from './evolve.ts';
import type { CommandResult } from './handle-command.ts';
import type { Clock, EventStore } from './ports.ts';
import { cloneState, type BrokerConfig } from './state.ts';

/** `at` of the events folded into the scratch state: never recorded, so any fixed value will do. */
const SCRATCH_AT = '1970-01-01T00:00:00.000Z';

/** `CreateMqttUser "alice"`, `RemoveAclRule 7`: names the failing item in a batch error. */
export const describeCommand = (c: Command): string => {
  const d = c.data as Record<string, unknown>;
  const subject = d['username'] ?? d['name'] ?? d['id'] ?? (d['principal'] === undefined ? undefined : `${String(d['principal'])} ${String(d['access'])} ${String(d['topic'])}`);
  return subject === undefined ? c.type : `${c.type} ${typeof subject === 'string' ? show(subject) : String(subject)}`;
};

/** `counts[i]`: how many of `events` command i decided (0 for a no-op), in order. */
export type BatchOutcome = { events: DomainEvent[]; state: BrokerConfig; counts: number[] };

/**
 * Decides `commands` in order, each against the state the commands before it leave behind.
 * Returns every event and that resulting state (a copy: `state` is never changed). Throws the
 * first command's DomainError, with the failing item named in the message and the first detail
 * (`{index, command, reason}`: reason is the command's own message, for callers that name items
 * their own way).
 */
export const simulateBatch = (commands: readonly Command[], state: BrokerConfig, ctx: DecideContext = {}): BatchOutcome => {
  const scratch = cloneState(state);
  const events: DomainEvent[] = [];
  const counts: number[] = [];
  let seq = state.seq;
  commands.forEach((command, index) => {
    let decided: DomainEvent[];
    try {
      decided = decide(command, scratch, ctx);
    } catch (e) {
      if (!isDomainError(e)) throw e;
      throw new DomainError(
        e.code,
        `item ${index + 1} of ${commands.length} (${describeCommand(command)}) was refused, so nothing was changed: ${e.message}`,
        [{ index, command: command.type, reason: e.message }, ...e.details],
      );
    }
    for (const event of decided) {
      seq += 1;
      evolve(scratch, { ...event, seq, at: SCRATCH_AT } as Recorded);
      events.push(event);
    }
    counts.push(decided.length);
  });
  return { events, state: scratch, counts };
};

/** The events of `commands` decided as one batch (see simulateBatch). */
export const decideBatch = (commands: readonly Command[], state: BrokerConfig, ctx: DecideContext = {}): DomainEvent[] =>
  simulateBatch(commands, state, ctx).events;

export type BatchContext = Readonly<{
  actor: Actor;
  /** The head seq the batch was planned on: refused (MCM_ERR_STALE_STREAM) when anything changed since. */
  expectedSeq?: number;
}>;

/** `counts[i]`: how many of `events` command i recorded, in order (see BatchOutcome). */
export type BatchResult = CommandResult & Readonly<{ counts: readonly number[] }>;

/**
 * Decides the whole batch and appends it inside the store's write transaction (EventStore.transact),
 * synchronously (STYLE principle 3). An empty result appends nothing.
 */
export const handleBatch = (
  deps: Readonly<{ store: EventStore; clock: Clock; serviceAccount?: string; broker?: BrokerConfigContext; backend?: 'files' | 'dynsec' }>,
  commands: readonly Command[],
  ctx: BatchContext,
): BatchResult => {
  let counts: number[] = [];
  const recorded = deps.store.transact((view) => {
    // A batch touches many streams, so it is stale when anything at all moved since it was planned.
    if (ctx.expectedSeq !== undefined && view.headSeq > ctx.expectedSeq) {
      throw new DomainError(ERROR_CODES.STALE_STREAM, `the configuration changed after seq ${ctx.expectedSeq} (now seq ${view.headSeq}); plan again`, [
        { stream: '*', expected_seq: ctx.expectedSeq, current_seq: view.headSeq },
      ]);
    }
    const outcome = simulateBatch(commands, view.state, decideContext(deps));
    counts = outcome.counts;
    return outcome.events;
  }, { actor: ctx.actor, at: deps.clock.now() });
  return { seq: recorded[recorded.length - 1]?.seq ?? deps.store.headSeq(), events: recorded, counts };
};
