/**
 * Plan and apply a GitOps bundle against an event store: the one place the CLI (direct on the
 * data dir), the HTTP routes and the dir watcher share. Applying is synchronous from reading the
 * state to the single append (STYLE principle 3), so the plan that is applied is the plan of the
 * state it was made on.
 */
import type { Actor } from '../../core/events.ts';
import type { BrokerConfigContext } from '../../core/decide/broker-config.ts';
import type { GitopsBundle } from '../../core/gitops-bundle.ts';
import { formatPlan, planBundle, type PlanChange, type PlanOptions } from '../../core/gitops-plan.ts';
import { handleBatch } from '../../core/handle-batch.ts';
import type { Clock, EventStore } from '../../core/ports.ts';
import { DomainError, ERROR_CODES } from '../../core/errors.ts';
import { UNMANAGED_MESSAGE } from '../broker-config/broker-context.ts';

export type GitopsDeps = Readonly<{
  store: EventStore;
  clock: Clock;
  serviceAccount: string;
  /** MCM's own listener ports and the broker's version, as the broker API checks broker.yaml's listeners against. */
  broker?: BrokerConfigContext;
  /** Whether the data dir's secrets/ holds this bridge password reference (adapters/secrets/bridge-passwords.ts). */
  bridgePasswordExists?: (ref: string) => boolean;
  /**
   * False when MCM does not write this broker's mosquitto.conf (external mode without
   * mosquitto.conf_fragment): a bundle that changes broker.yaml is refused rather than recorded
   * and never applied. Absent: managed.
   */
  brokerManaged?: boolean;
  /** The enforcement backend: what it cannot express is refused (core/decide.ts). */
  backend?: 'files' | 'dynsec';
}>;

/** A plan that changes the broker configuration of a broker MCM does not configure: refused, whole. */
const assertManaged = (deps: GitopsDeps, changes: readonly PlanChange[]): void => {
  if (deps.brokerManaged !== false) return;
  const broker = changes.flatMap((c) => (c.type === 'broker_added' || c.type === 'broker_changed' || c.type === 'broker_removed' ? [c] : []));
  if (broker.length === 0) return;
  throw new DomainError(ERROR_CODES.GITOPS_INVALID,
    `${UNMANAGED_MESSAGE}: broker.yaml would change ${broker.map((c) => c.what).join(', ')}; leave broker.yaml as exported, or let MCM write the broker's configuration`,
    [{ section: 'broker', path: '/broker', file: 'broker.yaml', message: UNMANAGED_MESSAGE }]);
};

export type GitopsPlanOutcome = {
  /** Head seq the plan was made on: pass it back as `expectedSeq` to apply exactly this plan. */
  seq: number;
  changes: PlanChange[];
  plan_text: string;
  commands_count: number;
};

export type GitopsApplyOutcome = GitopsPlanOutcome & {
  /** Events appended (0: nothing to do). `seq` is then the seq of the last one. */
  events_count: number;
};

const opts = (deps: GitopsDeps): PlanOptions => ({
  serviceAccount: deps.serviceAccount,
  ...(deps.broker === undefined ? {} : { broker: deps.broker }),
  ...(deps.bridgePasswordExists === undefined ? {} : { bridgePasswordExists: deps.bridgePasswordExists }),
});

export const planGitops = (deps: GitopsDeps, bundle: GitopsBundle): GitopsPlanOutcome => {
  const plan = planBundle(deps.store.state(), bundle, opts(deps));
  assertManaged(deps, plan.changes);
  return { seq: deps.store.headSeq(), changes: plan.changes, plan_text: formatPlan(plan.changes), commands_count: plan.commands.length };
};

/**
 * Plans and appends the whole diff as one batch with `actor` (kind `gitops`). Throws
 * MCM_ERR_GITOPS_INVALID, a decide error naming the failing item, or MCM_ERR_STALE_STREAM when
 * `expectedSeq` is given and anything changed since; in every case nothing is appended.
 */
export const applyGitops = (deps: GitopsDeps, bundle: GitopsBundle, ctx: Readonly<{ actor: Actor; expectedSeq?: number }>): GitopsApplyOutcome => {
  const plan = planBundle(deps.store.state(), bundle, opts(deps));
  assertManaged(deps, plan.changes);
  const result = handleBatch(deps, plan.commands, ctx);
  return {
    seq: result.seq,
    changes: plan.changes,
    plan_text: formatPlan(plan.changes),
    commands_count: plan.commands.length,
    events_count: result.events.length,
  };
};
