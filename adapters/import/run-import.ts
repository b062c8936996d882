/**
 * Plan and apply an import against an event store: the one place `mcm import` (direct on the data
 * dir) and `POST /import` share. Applying is one ImportBrokerFiles command through handleCommand
 * (actor kind `import`), synchronous from reading the state to the append (STYLE principle 3),
 * so what is appended is the plan of the state it was made on.
 */
import { DomainError, ERROR_CODES } from '../../core/errors.ts';
import type { Actor } from '../../core/events.ts';
import { handleCommand } from '../../core/handle-command.ts';
import type { BrokerFileKind, ImportInput, ImportPlan, ImportWarning } from '../../core/import/import-types.ts';
import { planImport } from '../../core/import/plan-import.ts';
import type { Clock, EventStore } from '../../core/ports.ts';

/** How many differences a plan lists; the rest are counted (`differences_total`). */
export const DIFFERENCES_LIMIT = 100;

export type ImportDeps = Readonly<{ store: EventStore; clock: Clock }>;

export type ImportFileInfo = Readonly<{ file: BrokerFileKind; path: string | null; sha256: string; owned: boolean }>;

/** The plan as `POST /import` answers it and `mcm import --json` prints it. */
export type ImportPlanOutcome = {
  /** Head seq the plan was made on: pass it back as `expected_seq` to apply exactly this plan. */
  seq: number;
  changes: ImportPlan['changes'];
  summary: ImportPlan['summary'];
  differences: ImportPlan['differences'];
  differences_total: number;
  warnings: ImportPlan['warnings'];
  adopt: ImportPlan['adopt'];
  /** The broker version the files were judged for (null: unknown, warned for 2.0 and 2.1). */
  broker_version: string | null;
  /** The files planned on, with their sha256 and whether they are MCM's own already. */
  files: ImportFileInfo[];
};

export type ImportApplyOutcome = ImportPlanOutcome & {
  /** Events appended (0: nothing to do). `seq` is then the new head. */
  events_count: number;
  /** The generation the broker runs (the apply loop's applied_seq), when a loop runs here. */
  applied_seq?: number;
};

export type ImportOptions = Readonly<{
  brokerVersion: string | null;
  limit?: number;
  /** Warnings the adapter found before planning (a mosquitto.conf's), listed first. */
  warnings?: readonly ImportWarning[];
}>;

/** Applying appends something: a change, or the adoption record of the files. */
export const willAppend = (o: Pick<ImportPlanOutcome, 'changes' | 'adopt'>): boolean => o.changes || o.adopt.length > 0;

const filesOf = (input: ImportInput): ImportFileInfo[] => {
  const owned = new Set(input.owned ?? []);
  const out: ImportFileInfo[] = [];
  for (const [file, f] of [['password_file', input.passwordFile], ['acl_file', input.aclFile]] as const) {
    if (f) out.push({ file, path: f.path ?? null, sha256: f.sha256, owned: owned.has(file) });
  }
  return out;
};

const outcomeOf = (seq: number, plan: ImportPlan, input: ImportInput, opts: ImportOptions): ImportPlanOutcome => ({
  seq,
  changes: plan.changes,
  summary: plan.summary,
  differences: plan.differences,
  differences_total: plan.differences_total,
  warnings: [...(opts.warnings ?? []), ...plan.warnings],
  adopt: plan.adopt,
  broker_version: opts.brokerVersion,
  files: filesOf(input),
});

/** What importing `input` would change; throws MCM_ERR_IMPORT_INVALID with every problem. */
export const planImportOutcome = (deps: ImportDeps, input: ImportInput, opts: ImportOptions): ImportPlanOutcome => {
  const seq = deps.store.headSeq();
  const { plan } = planImport(input, deps.store.state(), { limit: opts.limit ?? DIFFERENCES_LIMIT });
  return outcomeOf(seq, plan, input, opts);
};

/**
 * Appends the import as one batch with `actor` (kind `import`). With `expectedSeq`, refused with
 * MCM_ERR_STALE_STREAM when anything at all changed after it (the plan shown was made on that
 * state, whichever stream moved). In every refusal nothing is appended.
 */
export const applyImport = (
  deps: ImportDeps,
  input: ImportInput,
  ctx: ImportOptions & Readonly<{ actor: Actor; expectedSeq?: number }>,
): ImportApplyOutcome => {
  const head = deps.store.headSeq();
  if (ctx.expectedSeq !== undefined && head > ctx.expectedSeq) {
    throw new DomainError(ERROR_CODES.STALE_STREAM, `the configuration changed after seq ${ctx.expectedSeq} (now ${head}): plan the import again`, [
      { stream: '*', expected_seq: ctx.expectedSeq, current_seq: head },
    ]);
  }
  const { plan } = planImport(input, deps.store.state(), { limit: ctx.limit ?? DIFFERENCES_LIMIT });
  const result = handleCommand(deps, { type: 'ImportBrokerFiles', data: input }, {
    actor: ctx.actor,
    ...(ctx.expectedSeq === undefined ? {} : { expectedSeq: ctx.expectedSeq }),
  });
  return { ...outcomeOf(result.seq, plan, input, ctx), events_count: result.events.length };
};
