/**
 * Plan and apply an import against an event store: the one place `mcm import` (direct on the data
 * dir) and `POST /import` share. Applying is one batch (actor kind `import`): with a
 * mosquitto.conf, its certificates and broker configuration (broker-conf-import.ts) first, then
 * ImportBrokerFiles, whose adoption record ends the batch. Synchronous from reading the state to
 * the append (STYLE principle 3), so what is appended is the plan of the state it was made on.
 */
import type { Command } from '../../core/commands.ts';
import type { BrokerConfigContext } from '../../core/decide/broker-config.ts';
import { DomainError, ERROR_CODES } from '../../core/errors.ts';
import type { Actor } from '../../core/events.ts';
import { handleBatch } from '../../core/handle-batch.ts';
import { handleCommand, type CommandResult } from '../../core/handle-command.ts';
import type { BrokerFileKind, ImportInput, ImportPlan, ImportWarning } from '../../core/import/import-types.ts';
import { planImport } from '../../core/import/plan-import.ts';
import type { Clock, EventStore } from '../../core/ports.ts';
import { createCertStore } from '../certs/cert-store.ts';
import { createBridgePasswords } from '../secrets/bridge-passwords.ts';
import type { SecretStore } from '../secrets/secret-store.ts';
import {
  planBrokerConf, plannedPasswordRefs, storeBrokerConfSecrets, type BrokerConfPlan, type PreparedBrokerConf,
} from './broker-conf-import.ts';

/** How many differences a plan lists; the rest are counted (`differences_total`). */
export const DIFFERENCES_LIMIT = 100;

export type ImportDeps = Readonly<{
  store: EventStore;
  clock: Clock;
  /** Where certificates and bridge passwords of an imported mosquitto.conf are stored (needed to apply one). */
  secrets?: SecretStore;
  /** MCM's own listener ports and the broker version, which an imported configuration is checked against. */
  broker?: BrokerConfigContext;
  /** The enforcement backend: what it cannot express is refused at apply (core/decide.ts). */
  backend?: 'files' | 'dynsec';
}>;

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
  /** With a mosquitto.conf: the broker configuration and certificates it sets. */
  broker_config?: BrokerConfPlan;
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
  /** The broker configuration of a mosquitto.conf, its certificates checked (broker-conf-import.ts). */
  brokerConf?: PreparedBrokerConf | null;
}>;

/** Applying appends something: a change, or the adoption record of the files. */
export const willAppend = (o: Pick<ImportPlanOutcome, 'changes' | 'adopt'>): boolean => o.changes || o.adopt.length > 0;

const DEFAULT_BROKER: BrokerConfigContext = { reservedPorts: [], version: '2.0' };

const brokerPlan = (deps: ImportDeps, opts: ImportOptions, refs?: ReadonlyMap<string, string>) => {
  const prepared = opts.brokerConf ?? null;
  if (prepared === null) return null;
  const state = deps.store.state();
  const planned = refs ?? plannedPasswordRefs(prepared, state, deps.secrets ? createBridgePasswords(deps.secrets) : null);
  return { prepared, planned, ...planBrokerConf(prepared, state, deps.broker ?? DEFAULT_BROKER, planned) };
};

const filesOf = (input: ImportInput): ImportFileInfo[] => {
  const owned = new Set(input.owned ?? []);
  const out: ImportFileInfo[] = [];
  for (const [file, f] of [['password_file', input.passwordFile], ['acl_file', input.aclFile]] as const) {
    if (f) out.push({ file, path: f.path ?? null, sha256: f.sha256, owned: owned.has(file) });
  }
  return out;
};

const outcomeOf = (seq: number, plan: ImportPlan, input: ImportInput, opts: ImportOptions, broker: BrokerConfPlan | null): ImportPlanOutcome => ({
  seq,
  changes: plan.changes || broker?.changes === true,
  summary: plan.summary,
  differences: plan.differences,
  differences_total: plan.differences_total,
  warnings: [...(opts.warnings ?? []), ...plan.warnings],
  adopt: plan.adopt,
  broker_version: opts.brokerVersion,
  files: filesOf(input),
  ...(broker === null ? {} : { broker_config: broker }),
});

/** What importing `input` would change; throws MCM_ERR_IMPORT_INVALID with every problem. */
export const planImportOutcome = (deps: ImportDeps, input: ImportInput, opts: ImportOptions): ImportPlanOutcome => {
  const seq = deps.store.headSeq();
  const { plan } = planImport(input, deps.store.state(), { limit: opts.limit ?? DIFFERENCES_LIMIT });
  return outcomeOf(seq, plan, input, opts, brokerPlan(deps, opts)?.plan ?? null);
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
  const command: Command = { type: 'ImportBrokerFiles', data: input };
  const commandCtx = { actor: ctx.actor, ...(ctx.expectedSeq === undefined ? {} : { expectedSeq: ctx.expectedSeq }) };
  // Planned (and refused when invalid) before anything is stored.
  const broker = brokerPlan(deps, ctx);
  if (broker === null) {
    const result = handleCommand(deps, command, commandCtx);
    return { ...outcomeOf(result.seq, plan, input, ctx, null), events_count: result.events.length };
  }
  if (!deps.secrets) throw new Error('applying a mosquitto.conf import needs the secret store');
  const stored = storeBrokerConfSecrets(broker.prepared, broker.planned, {
    secrets: deps.secrets, certs: createCertStore(deps.secrets), passwords: createBridgePasswords(deps.secrets),
  });
  let result: CommandResult;
  let applied: ReturnType<typeof brokerPlan>;
  try {
    applied = brokerPlan(deps, ctx, stored.refs);
    const batchDeps = { store: deps.store, clock: deps.clock, broker: deps.broker ?? DEFAULT_BROKER, ...(deps.backend ? { backend: deps.backend } : {}) };
    result = handleBatch(batchDeps, [...(applied?.commands ?? []), command], commandCtx);
  } catch (e) {
    stored.undo();
    throw e;
  }
  return { ...outcomeOf(result.seq, plan, input, ctx, applied?.plan ?? null), events_count: result.events.length };
};
