/**
 * Plan and apply a GitOps bundle against an event store: the one place the CLI (direct on the
 * data dir), the HTTP routes and the dir watcher share. Applying is synchronous from reading the
 * state to the single append (STYLE principle 3), so the plan that is applied is the plan of the
 * state it was made on.
 */
import type { Actor } from '../../core/events.ts';
import type { BundleCheckOptions, GitopsBundle } from '../../core/gitops-bundle.ts';
import { formatPlan, planBundle, type PlanChange } from '../../core/gitops-plan.ts';
import { handleBatch } from '../../core/handle-batch.ts';
import type { Clock, EventStore } from '../../core/ports.ts';

export type GitopsDeps = Readonly<{ store: EventStore; clock: Clock; serviceAccount: string }>;

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

const opts = (deps: GitopsDeps): BundleCheckOptions => ({ serviceAccount: deps.serviceAccount });

export const planGitops = (deps: GitopsDeps, bundle: GitopsBundle): GitopsPlanOutcome => {
  const plan = planBundle(deps.store.state(), bundle, opts(deps));
  return { seq: deps.store.headSeq(), changes: plan.changes, plan_text: formatPlan(plan.changes), commands_count: plan.commands.length };
};

/**
 * Plans and appends the whole diff as one batch with `actor` (kind `gitops`). Throws
 * MCM_ERR_GITOPS_INVALID, a decide error naming the failing item, or MCM_ERR_STALE_STREAM when
 * `expectedSeq` is given and anything changed since; in every case nothing is appended.
 */
export const applyGitops = (deps: GitopsDeps, bundle: GitopsBundle, ctx: Readonly<{ actor: Actor; expectedSeq?: number }>): GitopsApplyOutcome => {
  const plan = planBundle(deps.store.state(), bundle, opts(deps));
  const result = handleBatch(deps, plan.commands, ctx);
  return {
    seq: result.seq,
    changes: plan.changes,
    plan_text: formatPlan(plan.changes),
    commands_count: plan.commands.length,
    events_count: result.events.length,
  };
};
