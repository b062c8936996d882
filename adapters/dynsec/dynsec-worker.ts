/**
 * The apply loop's worker for the dynamic-security backend (issue 15): the same loop (coalescing,
 * one apply at a time, retries, apply results, status) with other hands. An apply sends what
 * differs from the desired model (projections/dynsec-plan.ts) over
 * `$CONTROL/dynamic-security/v1` — only the entries the events touched, planned against what the
 * plugin was last given; the whole state read back at the first apply and after any refusal —
 * and proves it: every command answered without error, the touched entries read back equal to
 * the model (reads do not make the plugin rewrite its file), and the enforcement probe (the probe
 * client publishes under `$mcm/probe/`, a canary must be dropped, logins that must fail do).
 * No reload: the plugin applies each command at once (reference §6.3).
 *
 * Drift: a change made past MCM (`mosquitto_ctrl`) is found by comparing the plugin's state with
 * the model of the last applied generation, at every apply and every periodic check; it is
 * reported as a security event and, with `drift: restore`, undone.
 *
 * Passwords: 2.0's plugin takes plaintext only. A password MCM just hashed is in the courier; one
 * it no longer has (set while MCM was stopped, or before a restart) is given to the supervised
 * broker through the plugin's JSON file and a restart (the file carries hashes, reference §6.2).
 */
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Clock, EventStore } from '../../core/ports.ts';
import { assembleDynsecModel, probeUsername, type DynsecClient, type DynsecModel, type DynsecRole } from '../../projections/dynsec-model.ts';
import { createDynsecModeler } from '../../projections/dynsec-incremental.ts';
import { renderDynsecJson } from '../../projections/dynsec-json.ts';
import { parseDynsecActual, planDynsec, type DynsecActual, type DynsecCommand, type PasswordAnswer } from '../../projections/dynsec-plan.ts';
import type { DynsecChange } from '../../projections/dynsec-incremental.ts';
import { ownedPart, type ForeignEntries } from '../../projections/dynsec-ownership.ts';
import { confNeedsRestart } from '../../projections/conf-restart-key.ts';
import { writeFileAtomicSync } from '../files/atomic-write-sync.ts';
import { readTextOrNull, writeRenderedFile } from '../files/write-rendered-file.ts';
import type { FileOwnership } from '../mosquitto/permissions.ts';
import type { ProbeResult } from '../mosquitto/probe.ts';
import type { ApplyResults } from '../sqlite/apply-results.ts';
import type { SecurityEventInput } from '../sqlite/security-events.ts';
import type { ApplyOutcome } from '../apply/apply-status.ts';
import type { ApplyWorker, Logger } from '../apply/apply-worker.ts';
import { createSecurityReport } from '../apply/security-report.ts';
import type { DynsecControl, DynsecResponse } from './dynsec-control.ts';
import { readPluginState } from './read-plugin-state.ts';
import type { PasswordCourier } from './password-courier.ts';


export type DynsecWorkerDeps = Readonly<{
  store: EventStore;
  results: ApplyResults;
  security: { record(input: SecurityEventInput): unknown };
  clock: Clock;
  logger?: Logger;
  control: DynsecControl;
  probe: (opts: { generation: number; allowAnonymous: boolean }) => Promise<ProbeResult>;
  serviceAccount: Readonly<{ username: string; password: string; hash: string }>;
  courier: PasswordCourier;
  drift: 'restore' | 'report';
  /** Where the applied password fingerprints are kept (sha256 of each client's hash; no secret). */
  appliedPasswordsPath: string;
  brokerRunning: () => boolean;
  /**
   * External mode (issue 15): sets MCM's service account up in the plugin with the operator's
   * admin when it cannot administer the plugin yet (service-account-setup.ts); null: no admin
   * was given, and the apply says how to give one.
   */
  setUpServiceAccount?: (() => Promise<void>) | null;
  /** The supervised broker: its plugin JSON, its mosquitto.conf and how to restart it; null for an external broker. */
  supervised: Readonly<{
    jsonPath: string;
    jsonOwner: Readonly<{ uid?: number; gid?: number }>;
    confPath: string;
    confOwnership: () => FileOwnership;
    renderConf: (allowAnonymous: boolean, state: ReturnType<EventStore['state']>) => string | null;
    startedConf: () => string | null;
    restart: (beforeStart?: () => void) => Promise<void>;
    reload: () => void;
  }> | null;
}>;

/**
 * Above this many (commands × clients) a plan goes to the broker as a plugin file and one
 * restart: the plugin rewrites its whole file after every command that changes it (observed on
 * 2.0.11: ~50 ms per command at 10,000 clients, ~700 ms at 100,000), so 100,000 new users sent
 * one by one would take hours. The restart drops the connections once; a per-command plan below
 * the limit keeps them.
 */
const BULK_COST = 5_000_000;
const goesAsFile = (commands: number, clients: number): boolean => commands * Math.max(1, clients) > BULK_COST;

const sha = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex');

const errorsOf = (commands: readonly DynsecCommand[], responses: readonly DynsecResponse[]): string[] => {
  const out: string[] = [];
  commands.forEach((c, i) => {
    const r = responses[i];
    if (!r) out.push(`${c.command}: no response`);
    else if (typeof r.error === 'string') out.push(`${c.command}${typeof c.username === 'string' ? ` ${c.username}` : typeof c.rolename === 'string' ? ` ${c.rolename}` : ''}: ${r.error}`);
  });
  return out;
};

export const createDynsecWorker = (deps: DynsecWorkerDeps): ApplyWorker => {
  const counters = { applies: 0, writes: 0, reloads: 0 };
  const security = createSecurityReport(deps);
  const sup = deps.supervised;
  let reachable = true;
  /**
   * What the plugin was last given and proven to hold, by name: an apply plans only the entries
   * the events touched against these (issue 14's incremental applies); null until a full apply.
   */
  let given: { clients: Map<string, DynsecClient>; roles: Map<string, DynsecRole>; generation: number; allowAnonymous: boolean } | null = null;
  const givenModel = (): DynsecModel | null => (given ? assembleDynsecModel({ clients: given.clients.values(), roles: given.roles.values(), unsupported: [] }) : null);
  const modeler = createDynsecModeler({ serviceAccount: deps.serviceAccount.username, serviceAccountHash: deps.serviceAccount.hash });
  /** Drift already reported (one event per distinct drift). */
  let reportedDrift = '';

  /** username → sha256 of the `$7$` hash the plugin holds for it (set by MCM, or from MCM's JSON). */
  const appliedPasswords = new Map<string, string>(Object.entries((() => {
    try { return JSON.parse(readTextOrNull(deps.appliedPasswordsPath) ?? '{}') as Record<string, string>; } catch { return {}; }
  })()));
  const saveAppliedPasswords = (): void => {
    writeFileAtomicSync(deps.appliedPasswordsPath, `${JSON.stringify(Object.fromEntries([...appliedPasswords].sort()))}\n`, 0o600);
  };

  const readActual = (): Promise<DynsecActual> => readPluginState(deps.control);

  /**
   * External: the first read as the service account fails while the plugin does not know it; the
   * operator's admin then sets it up (once) and the read is tried again.
   */
  const readActualAsService = async (): Promise<DynsecActual> => {
    try {
      return await readActual();
    } catch (e) {
      if (sup) throw e;
      if (!deps.setUpServiceAccount) {
        throw new Error(`${(e as Error).message}. MCM's service account "${deps.serviceAccount.username}" is not an admin of this broker's plugin: start the server once with MCM_DYNSEC_ADMIN_USERNAME and MCM_DYNSEC_ADMIN_PASSWORD naming an admin of the plugin (for example the client \`mosquitto_ctrl dynsec init\` created), and MCM sets its account up`, { cause: e });
      }
      await deps.setUpServiceAccount();
      // The plugin holds the account's password now: setting it again would make the plugin
      // kick MCM's own admin connection in the middle of its request.
      appliedPasswords.set(deps.serviceAccount.username, sha(deps.serviceAccount.hash));
      saveAppliedPasswords();
      deps.logger?.info({ username: deps.serviceAccount.username }, 'set up MCM\'s service account in the dynamic-security plugin with the operator\'s admin');
      return readActual();
    }
  };

  /** Plaintext to set, 'keep', or null when the plugin must get a password MCM no longer has. */
  const passwordOf = (c: DynsecClient, exists: boolean): PasswordAnswer => {
    if (c.passwordHash === '') return 'keep';
    const record = appliedPasswords.get(c.username);
    if (exists && record === sha(c.passwordHash)) return 'keep';
    // A password just set through MCM: the plugin gets it, whatever it held before.
    const fresh = deps.courier.plaintextFor(c.passwordHash);
    if (fresh !== null) return fresh;
    // A client the plugin has and MCM kept no record of (the record file is not in backups, or
    // it was set up by the operator's admin): its password is taken to be the one it has, rather
    // than locking it out; a hash that changed since a record was kept is set again.
    if (exists && record === undefined) return 'keep';
    if (c.username === deps.serviceAccount.username || c.username === probeUsername(deps.serviceAccount.username)) return deps.serviceAccount.password;
    return null;
  };

  /** Writes the plugin file for `model` while the broker is stopped (the plugin reads it only at start). */
  const writeJson = (model: DynsecModel): readonly string[] => {
    if (!sup) throw new Error('the plugin file is written for a supervised broker only');
    const json = renderDynsecJson(model);
    writeFileAtomicSync(sup.jsonPath, json.text, 0o600, sup.jsonOwner);
    counters.writes++;
    appliedPasswords.clear();
    const without = new Set(json.withoutPassword);
    for (const c of model.clients) if (!without.has(c.username)) appliedPasswords.set(c.username, sha(c.passwordHash));
    saveAppliedPasswords();
    return json.withoutPassword;
  };

  /** mosquitto.conf: written when it differs; a change restarts the broker (rare: listeners, anonymous access). */
  const confStep = async (state: ReturnType<EventStore['state']>): Promise<boolean> => {
    if (!sup) return false; // an external broker's mosquitto.conf is the operator's
    const want = sup.renderConf(state.settings.allowAnonymous, state);
    if (want === null || readTextOrNull(sup.confPath) === want) return false;
    writeRenderedFile(sup.confPath, want, sup.confOwnership());
    counters.writes++;
    const started = sup.startedConf();
    if (started !== null && !confNeedsRestart(started, want)) {
      sup.reload();
      counters.reloads++;
      return false;
    }
    await sup.restart();
    return true;
  };

  const failed = (generation: number, reason: string, since: number, extra: Partial<ApplyOutcome> = {}): ApplyOutcome => {
    const latencyMs = performance.now() - since;
    deps.results.record({ generation, result: 'failed', reason, latencyMs, at: deps.clock.now() });
    security('apply.failed', 'warning', `apply of generation ${generation} failed: ${reason}`, { generation });
    return { generation, result: 'failed', reason, latencyMs, wrote: false, reloaded: false, ...extra };
  };

  /** External: the operator's own entries, reported once (never changed). */
  let reportedForeign = '';
  const reportForeign = (f: ForeignEntries): void => {
    const names = [...f.clients.map((n) => `client ${n}`), ...f.roles.map((n) => `role ${n}`), ...f.groups.map((n) => `group ${n}`)];
    const key = names.join('\n');
    if (names.length === 0 || key === reportedForeign) return;
    reportedForeign = key;
    security('dynsec.foreign', 'info', `the dynamic-security plugin holds ${names.length} entr${names.length === 1 ? 'y' : 'ies'} MCM does not manage; they are left as they are: ${names.slice(0, 10).join(', ')}${names.length > 10 ? `, … ${names.length - 10} more` : ''}`, {
      clients: f.clients.slice(0, 50), roles: f.roles.slice(0, 50), groups: f.groups.slice(0, 50),
    });
  };

  /**
   * What the plan compares: everything in a supervised broker's plugin (MCM's alone), only MCM's
   * entries in an external one (projections/dynsec-ownership.ts), whose anonymous group MCM keeps
   * when the operator set one.
   */
  const comparable = (actual: DynsecActual, desired: DynsecModel): { actual: DynsecActual; desired: DynsecModel } => {
    if (sup) return { actual, desired };
    const part = ownedPart(actual, desired);
    reportForeign(part.foreign);
    return { actual: part.owned, desired: part.anonymousGroup === desired.anonymousGroup ? desired : { ...desired, anonymousGroup: part.anonymousGroup } };
  };

  const reportDrift = (differences: readonly string[], when: string): void => {
    const key = differences.join('\n');
    if (key === reportedDrift) return;
    reportedDrift = key;
    security('dynsec.drift', 'warning', `the dynamic-security plugin was changed outside MCM (${when}; drift: ${deps.drift}): ${differences.slice(0, 10).join('; ')}${differences.length > 10 ? `; … ${differences.length - 10} more` : ''}`, {
      differences: differences.slice(0, 50),
    });
  };

  /** The plugin's state as MCM left it, limited to `names` (the entries an incremental apply plans). */
  const actualSubset = (clients: Iterable<string>, roles: Iterable<string>, of: DynsecModel): DynsecActual => ({
    defaultACLAccess: of.defaultACLAccess, groups: of.groups, anonymousGroup: of.anonymousGroup,
    clients: [...clients].flatMap((n) => {
      const c = given?.clients.get(n);
      return c ? [{ username: c.username, textdescription: c.textdescription, disabled: c.disabled, roles: c.roles, groups: [] }] : [];
    }),
    roles: [...roles].flatMap((n) => { const r = given?.roles.get(n); return r ? [r] : []; }),
  });

  /** The model limited to `names`. */
  const desiredSubset = (clients: Iterable<string>, roles: Iterable<string>): DynsecModel => assembleDynsecModel({
    clients: [...clients].flatMap((n) => { const c = modeler.client(n); return c ? [c] : []; }),
    roles: [...roles].flatMap((n) => { const r = modeler.role(n); return r ? [r] : []; }),
    unsupported: [],
  });

  /** Sends a plan; the failures, or [] (then `given` holds what was sent). */
  const send = async (commands: readonly DynsecCommand[], desired: DynsecModel): Promise<string[]> => {
    if (commands.length === 0) return [];
    const responses = await deps.control.send(commands);
    const errors = errorsOf(commands, responses);
    counters.writes++;
    let changed = false;
    let byName: Map<string, DynsecClient> | null = null;
    for (const c of commands) {
      if (c.command === 'deleteClient') changed = appliedPasswords.delete(c.username as string) || changed;
      if ((c.command === 'createClient' || c.command === 'setClientPassword') && typeof c.password === 'string') {
        byName ??= new Map(desired.clients.map((d) => [d.username, d]));
        const client = byName.get(c.username as string);
        if (client) {
          appliedPasswords.set(client.username, sha(client.passwordHash));
          deps.courier.delivered(client.passwordHash);
          changed = true;
        }
      }
    }
    // An fsync'd write only when a password changed: most applies change rules, not passwords.
    if (changed) saveAppliedPasswords();
    return errors;
  };

  /** Reads the plugin back and moves all of it to the model; reports drift from what it was given. */
  const fullApply = async (): Promise<{ wrote: boolean; restarted: boolean; error: string | null; retryable?: boolean }> => {
    let actual: DynsecActual;
    try {
      actual = await readActualAsService();
    } catch (e) {
      reachable = false;
      return { wrote: false, restarted: false, error: `cannot administer the dynamic-security plugin: ${(e as Error).message}`, retryable: true };
    }
    reachable = true;
    const before = givenModel();
    if (before) {
      const c = comparable(actual, before);
      const drift = planDynsec(c.actual, c.desired, () => 'keep');
      if (drift.differences.length > 0) reportDrift(drift.differences, 'found at apply');
    }
    let { actual: current, desired } = comparable(actual, modeler.model());
    let plan = planDynsec(current, desired, passwordOf);
    let restarted = false;
    if (!sup && plan.commands.some((c) => c.command === 'setDefaultACLAccess')) {
      // MCM's read and write rules mean something only over a default that denies; in an
      // operator's plugin that changes what their own clients may do without an explicit ACL.
      security('dynsec.default_access', 'warning', 'MCM sets the plugin\'s default access to deny sending, subscribing and receiving (unsubscribing stays allowed): the broker\'s other clients now need explicit ACLs for what the default allowed them', {
        from: current.defaultACLAccess, to: desired.defaultACLAccess,
      });
    }
    if (!sup && plan.missingPasswords.length > 0) {
      // An external plugin can get a password only in plaintext (Mosquitto 2.0), and MCM has none.
      return { wrote: false, restarted: false, error: `the plugin needs the password of ${plan.missingPasswords.slice(0, 5).join(', ')}${plan.missingPasswords.length > 5 ? ` and ${plan.missingPasswords.length - 5} more` : ''}, which MCM only has while a password is being set: set it again (mcm users passwd, or the web UI) with the server running` };
    }
    if (sup && (plan.missingPasswords.length > 0 || goesAsFile(plan.commands.length, desired.clients.length))) {
      // Only the plugin file can carry a hash, and a bulk change is one file write instead of a
      // rewrite per command: restart the broker on a file written from the model.
      let without: readonly string[] = [];
      const whole = desired;
      await sup.restart(() => { without = writeJson(whole); });
      restarted = true;
      if (without.length > 0) deps.logger?.warn({ clients: without.slice(0, 20) }, 'clients without a $7$ hash have no password in the plugin: they cannot log in until their password is set through MCM');
      ({ actual: current, desired } = comparable(await readActual(), modeler.model()));
      plan = planDynsec(current, desired, passwordOf);
    }
    const errors = await send(plan.commands, desired);
    if (errors.length > 0) {
      given = null;
      return { wrote: true, restarted, error: `the plugin refused ${errors.length} command(s): ${errors.slice(0, 5).join('; ')}` };
    }
    if (plan.commands.length > 0) {
      const back = comparable(await readActual(), desired);
      const after = planDynsec(back.actual, back.desired, () => 'keep').differences;
      if (after.length > 0) {
        given = null;
        return { wrote: true, restarted, error: `the plugin does not hold what it acknowledged: ${after.slice(0, 5).join('; ')}` };
      }
    }
    // Clients whose password was taken as held (no record): recorded now, so a hash that changes
    // later, even while MCM is stopped, is known to need setting.
    const missing = new Set(plan.missingPasswords);
    let recorded = false;
    for (const c of desired.clients) {
      if (c.passwordHash === '' || missing.has(c.username) || appliedPasswords.has(c.username)) continue;
      appliedPasswords.set(c.username, sha(c.passwordHash));
      recorded = true;
    }
    if (recorded) saveAppliedPasswords();
    given = {
      clients: new Map(desired.clients.map((c) => [c.username, c])), roles: new Map(desired.roles.map((r) => [r.rolename, r])),
      generation: given?.generation ?? 0, allowAnonymous: given?.allowAnonymous ?? false,
    };
    return { wrote: plan.commands.length > 0 || restarted, restarted, error: null };
  };

  /**
   * The touched entries as the plugin reports them now (getClient/getRole), compared with the
   * model: what differs, or [] when the plugin holds exactly what was sent.
   */
  const readBack = async (clients: readonly string[], roles: readonly string[], desired: DynsecModel): Promise<string[]> => {
    const cmds: DynsecCommand[] = [...clients.map((username) => ({ command: 'getClient', username })), ...roles.map((rolename) => ({ command: 'getRole', rolename }))];
    if (cmds.length === 0) return [];
    const r = await deps.control.send(cmds);
    // An entry that is gone answers with an error ("Client not found"): absent.
    const found = (from: number, to: number, key: 'client' | 'role'): unknown[] =>
      r.slice(from, to).flatMap((x) => (x.error === undefined && x.data ? [(x.data as Record<string, unknown>)[key]] : []));
    const parsed = parseDynsecActual({ clients: { clients: found(0, clients.length, 'client') }, roles: { roles: found(clients.length, cmds.length, 'role') }, groups: null, defaultACLAccess: null, anonymousGroup: null });
    const actual: DynsecActual = { ...parsed, defaultACLAccess: desired.defaultACLAccess, groups: desired.groups, anonymousGroup: desired.anonymousGroup };
    return [...planDynsec(actual, desired, () => 'keep').differences];
  };

  /** Plans and sends only what the events touched since the last apply. Null: fall back to a full apply. */
  const incrementalApply = async (change: DynsecChange): Promise<{ wrote: boolean } | null> => {
    const desired = desiredSubset(change.clients, change.roles);
    const plan = planDynsec(actualSubset(change.clients, change.roles, desired), desired, passwordOf);
    if (plan.missingPasswords.length > 0 || (sup && goesAsFile(plan.commands.length, given?.clients.size ?? 0))) return null;
    const errors = await send(plan.commands, desired);
    // A refused command means the plugin is not what MCM left it (drift): read it back and redo all.
    if (errors.length > 0) {
      deps.logger?.warn({ errors: errors.slice(0, 5) }, 'the plugin refused an incremental change; reading its state back');
      return null;
    }
    if (plan.commands.length > 0) {
      const differ = await readBack([...change.clients], [...change.roles], desired);
      if (differ.length > 0) {
        deps.logger?.warn({ differences: differ.slice(0, 5) }, 'the plugin does not hold what it acknowledged; reading its state back');
        return null;
      }
    }
    for (const n of change.clients) { const c = modeler.client(n); if (c) given!.clients.set(n, c); else given!.clients.delete(n); }
    for (const n of change.roles) { const r = modeler.role(n); if (r) given!.roles.set(n, r); else given!.roles.delete(n); }
    return { wrote: plan.commands.length > 0 };
  };

  const applyOnce = async (since: number): Promise<ApplyOutcome> => {
    const state = deps.store.state();
    const generation = state.generation;
    const phases: Record<string, number> = {};
    let t = since;
    const mark = (name: string): void => { const n = performance.now(); phases[name] = n - t; t = n; };
    const change = modeler.update(state);
    const unsupported = modeler.unsupported();
    if (unsupported.length > 0) {
      given = null; // the next apply reads the plugin back
      return failed(generation, `the dynamic-security plugin cannot express ${unsupported.length === 1 ? 'a rule' : `${unsupported.length} rules`}: ${unsupported.slice(0, 3).map((u) => u.reason).join('; ')}`, since);
    }
    mark('render');
    let restarted = await confStep(state);
    let wrote = false;
    const inc = given !== null && !change.full && !restarted ? await incrementalApply(change) : null;
    if (inc) {
      wrote = inc.wrote;
    } else {
      const full = await fullApply();
      if (full.error !== null) return failed(generation, full.error, since, { wrote: full.wrote, ...(full.retryable ? { retryable: true } : {}) });
      wrote = full.wrote;
      restarted ||= full.restarted;
    }
    mark('send');
    const probe = await deps.probe({ generation, allowAnonymous: state.settings.allowAnonymous });
    mark('confirm');
    if (!probe.ok) {
      security(probe.failOpen ? 'apply.fail_open' : 'apply.probe_failed', probe.failOpen ? 'critical' : 'warning', `generation ${generation} was sent to the dynamic-security plugin but the probe failed: ${probe.reason}`, { generation });
      given = null;
      return failed(generation, `probe failed: ${probe.reason}`, since, { failOpen: probe.failOpen, wrote, ...(probe.unreachable ? { retryable: true } : {}) });
    }
    given!.generation = generation;
    given!.allowAnonymous = state.settings.allowAnonymous;
    reportedDrift = '';
    const latencyMs = performance.now() - since;
    deps.results.record({
      generation, result: 'applied', latencyMs, at: deps.clock.now(),
      reason: wrote ? null : 'the plugin already held this state; confirmed',
    });
    return { generation, result: 'applied', latencyMs, wrote, reloaded: false, ...(restarted ? { restarted: true } : {}), phases };
  };

  const checkEnforcement = async (reason: string): Promise<ProbeResult | null> => {
    const before = givenModel();
    if (!given || !before) return null;
    let actual: DynsecActual;
    try {
      actual = await readActual();
    } catch (e) {
      if (reachable) security('broker.unreachable', 'warning', `broker unreachable (${reason}): ${(e as Error).message}`);
      reachable = false;
      return { ok: false, reason: (e as Error).message, failOpen: false, unreachable: true };
    }
    reachable = true;
    const c = comparable(actual, before);
    const plan = planDynsec(c.actual, c.desired, () => 'keep');
    if (plan.differences.length > 0) {
      reportDrift(plan.differences, reason);
      if (deps.drift === 'restore') {
        const responses = await deps.control.send(plan.commands);
        const errors = errorsOf(plan.commands, responses);
        if (errors.length > 0) security('apply.restore_failed', 'critical', `undoing the plugin drift failed: ${errors.slice(0, 5).join('; ')}`);
        else deps.logger?.info({ commands: plan.commands.length }, 'plugin drift undone');
        counters.writes++;
      }
    }
    const probe = await deps.probe({ generation: given.generation, allowAnonymous: given.allowAnonymous });
    if (!probe.ok && !probe.unreachable) {
      security(probe.failOpen ? 'apply.fail_open' : 'apply.probe_failed', probe.failOpen ? 'critical' : 'warning', `enforcement check (${reason}) failed: ${probe.reason}`);
    }
    return probe;
  };

  return {
    stats: () => ({ ...counters }),
    brokerUp: () => (sup ? deps.brokerRunning() : reachable),
    async apply(args) {
      counters.applies++;
      const since = args.since ?? performance.now();
      try {
        return await applyOnce(since);
      } catch (e) {
        const o = failed(deps.store.state().generation, `apply error: ${(e as Error).message}`, since);
        return { ...o, errored: true };
      }
    },
    reportStartupDrift: () => undefined,
    checkEnforcement,
    fileChanged: () => Promise.resolve(false),
    brokerExited: () => undefined,
    quarantine: () => null,
    adoption: () => null,
    foreignNow: () => [],
    prepare() {
      if (!sup) return; // an external broker runs on its own files
      // The broker starts on MCM's plugin file and mosquitto.conf: every user with its hash.
      const state = deps.store.state();
      const conf = sup.renderConf(state.settings.allowAnonymous, state);
      if (conf !== null) writeRenderedFile(sup.confPath, conf, sup.confOwnership());
      modeler.update(state);
      const without = writeJson(modeler.model());
      if (without.length > 0) deps.logger?.warn({ clients: without.slice(0, 20) }, 'clients without a $7$ hash have no password in the plugin: they cannot log in until their password is set through MCM');
    },
  };
};
