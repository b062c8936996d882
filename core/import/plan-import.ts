/**
 * planImport: what MCM must change so that the files it renders decide every case exactly as an
 * existing broker's files do (issue 11), as events for one batch, plus a plan a person can read.
 * Applying the events and planning the same files again gives `changes: false` (a fixpoint).
 *
 * Users: in the password file → created (hash byte for byte), hash changed, or enabled. Only in the
 * acl_file → created without a password line ('' hash), or their hash set to ''. Enabled MCM users
 * in neither file → disabled (a file not given counts as what MCM already renders). Rules: see
 * plan-acl.ts. allow_anonymous (from a mosquitto.conf) → AnonymousAccessChanged. Last, one
 * BrokerFilesAdopted for every given file MCM does not own yet and has not adopted as these bytes.
 *
 * Pure and total: a malformed or unrepresentable line anywhere throws MCM_ERR_IMPORT_INVALID
 * listing every problem with its line; nothing is half-imported.
 */
import type { AclRule, Principal } from '../acl-types.ts';
import { show } from '../decide/guards.ts';
import { DomainError, ERROR_CODES } from '../errors.ts';
import type { DomainEvent } from '../events.ts';
import { byCodeUnit, own } from '../evolve/records.ts';
import type { BrokerConfig } from '../state.ts';
import type {
  BrokerFileKind, ImportDifference, ImportFile, ImportInput, ImportPlan, ImportProblem, ImportSummary, ImportWarning,
} from './import-types.ts';
import { planPrincipal, type AclChange } from './plan-acl.ts';
import { parseAclFile, type ImportedRule, type ParsedAclFile } from './parse-acl-file.ts';
import { parsePasswordFile, type ParsedPasswordFile } from './parse-password-file.ts';

export type PlanImportOptions = Readonly<{ limit?: number }>;
export type PlanImportResult = { plan: ImportPlan; events: DomainEvent[] };

/** Problems listed in the error's details; the message gives the total. */
export const MAX_PROBLEM_DETAILS = 1000;
export const DEFAULT_DIFFERENCE_LIMIT = 50;

const invalid = (field: string, why: string, value: unknown): DomainError =>
  new DomainError(ERROR_CODES.VALIDATION, `${field} ${why} (got ${show(value)})`, [{ field }]);

const checkFile = (value: unknown, field: string): ImportFile | null => {
  if (value === undefined || value === null) return null;
  const f = value as Partial<ImportFile>;
  if (typeof value !== 'object' || typeof f.text !== 'string' || typeof f.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(f.sha256)) {
    throw invalid(field, 'must be {text, sha256 (64 hex digits), path?}', value);
  }
  if (f.path !== undefined && f.path !== null && typeof f.path !== 'string') throw invalid(`${field}.path`, 'must be a string or null', f.path);
  return f as ImportFile;
};

/** The command arrives from adapters (CLI, HTTP): its shape is checked here so decide stays total. */
const checkInput = (input: ImportInput) => {
  const passwordFile = checkFile(input.passwordFile, 'passwordFile');
  const aclFile = checkFile(input.aclFile, 'aclFile');
  if (!passwordFile && !aclFile) throw invalid('passwordFile', 'or aclFile must be given: there is nothing to import', null);
  if (typeof input.serviceAccount !== 'string' || input.serviceAccount === '') throw invalid('serviceAccount', 'must be a username', input.serviceAccount);
  const brokerLine = input.brokerLine ?? null;
  if (brokerLine !== null && brokerLine !== '2.0' && brokerLine !== '2.1') throw invalid('brokerLine', 'must be "2.0", "2.1" or null', brokerLine);
  const allowAnonymous = input.allowAnonymous ?? null;
  if (allowAnonymous !== null && typeof allowAnonymous !== 'boolean') throw invalid('allowAnonymous', 'must be true, false or null', allowAnonymous);
  const owned = input.owned ?? [];
  if (!Array.isArray(owned) || !owned.every((f) => f === 'password_file' || f === 'acl_file')) {
    throw invalid('owned', 'must list "password_file" and/or "acl_file"', owned);
  }
  return { passwordFile, aclFile, serviceAccount: input.serviceAccount, brokerLine, allowAnonymous, owned: owned as BrokerFileKind[] };
};

const refuse = (problems: readonly ImportProblem[]): DomainError => {
  const first = problems[0] as ImportProblem;
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more${problems.length > MAX_PROBLEM_DETAILS ? `; the first ${MAX_PROBLEM_DETAILS} are listed` : ''})` : '';
  return new DomainError(
    ERROR_CODES.IMPORT_INVALID,
    `${problems.length} line${problems.length === 1 ? '' : 's'} cannot be imported, so nothing was changed: ${first.file} line ${first.line}: ${first.message}${more}`,
    problems.slice(0, MAX_PROBLEM_DETAILS).map((p) => ({ file: p.file, line: p.line, message: p.message })),
  );
};

type Difference = ImportDifference & { order: number };

const FILE_RANK: Record<ImportDifference['file'], number> = { password_file: 0, acl_file: 1, mosquitto_conf: 2 };

export const planImport = (input: ImportInput, state: BrokerConfig, opts: PlanImportOptions = {}): PlanImportResult => {
  const given = checkInput(input);
  const parseOpts = { serviceAccount: given.serviceAccount, brokerLine: given.brokerLine };
  const pw: ParsedPasswordFile | null = given.passwordFile ? parsePasswordFile(given.passwordFile.text, parseOpts) : null;
  const acl: ParsedAclFile | null = given.aclFile ? parseAclFile(given.aclFile.text, parseOpts) : null;
  const problems = [...(pw?.problems ?? []), ...(acl?.problems ?? [])];
  if (problems.length > 0) throw refuse(problems);
  const warnings: ImportWarning[] = [...(pw?.warnings ?? []), ...(acl?.warnings ?? [])];

  const summary: ImportSummary = {
    users_in_files: 0, rules_in_files: acl?.rules.length ?? 0, users_created: 0, users_password_changed: 0, users_enabled: 0,
    users_disabled: 0, users_without_password: 0, rules_added: 0, rules_removed: 0, roles_revoked: 0, allow_anonymous_changed: false,
  };
  const differences: Difference[] = [];
  const differ = (file: ImportDifference['file'], line: number | undefined, text: string): void => {
    differences.push(line === undefined ? { file, text, order: differences.length } : { file, line, text, order: differences.length });
  };
  const userEvents: DomainEvent[] = [];
  const laterEvents: DomainEvent[] = [];

  // Users ------------------------------------------------------------------------------------
  const passwordLines = new Map((pw?.entries ?? []).map((e) => [e.username, e] as const));
  const aclUsers = acl?.users ?? new Set<string>();
  /** Who is enabled once the events apply: their ACL lists are planned. */
  const enabledAfter = new Set<string>();
  summary.users_in_files = passwordLines.size + [...aclUsers].filter((u) => !passwordLines.has(u)).length;
  const descriptionOf = (name: string): string => acl?.userDescriptions.get(name) ?? '';

  for (const e of passwordLines.values()) {
    const user = own(state.users, e.username);
    enabledAfter.add(e.username);
    if (!user) {
      userEvents.push({ type: 'MqttUserCreated', data: { username: e.username, passwordHash: e.hash, description: descriptionOf(e.username), disabled: false } });
      summary.users_created++;
      differ('password_file', e.line, `+ user ${e.username} (password from line ${e.line})`);
      continue;
    }
    if (user.passwordHash !== e.hash) {
      userEvents.push({ type: 'MqttUserPasswordChanged', data: { username: e.username, passwordHash: e.hash } });
      summary.users_password_changed++;
      differ('password_file', e.line, `~ user ${e.username}: password from line ${e.line}`);
    }
    if (user.disabled) {
      userEvents.push({ type: 'MqttUserEnabled', data: { username: e.username } });
      summary.users_enabled++;
      differ('password_file', e.line, `~ user ${e.username}: enabled (line ${e.line})`);
    }
  }
  for (const name of aclUsers) {
    if (passwordLines.has(name)) continue;
    const line = acl?.userLines.get(name);
    const user = own(state.users, name);
    if (!user) {
      userEvents.push({ type: 'MqttUserCreated', data: { username: name, passwordHash: '', description: descriptionOf(name), disabled: false } });
      summary.users_created++;
      summary.users_without_password++;
      enabledAfter.add(name);
      differ('acl_file', line, `+ user ${name} without a password line (ACL block from line ${line})`);
      warnings.push({ file: 'acl_file', ...(line === undefined ? {} : { line }), code: 'user_without_password', message: `user ${JSON.stringify(name)} has an ACL block but no password line: imported without a password (it cannot log in, as today)` });
      continue;
    }
    if (!pw || user.disabled) {
      // Without a password file MCM keeps its own; a disabled user decides like one without a password line.
      if (!user.disabled) enabledAfter.add(name);
      continue;
    }
    summary.users_without_password++;
    enabledAfter.add(name);
    if (user.passwordHash !== '') {
      userEvents.push({ type: 'MqttUserPasswordChanged', data: { username: name, passwordHash: '' } });
      differ('acl_file', line, `~ user ${name}: no password line any more (ACL block from line ${line}): it cannot log in`);
      warnings.push({ file: 'acl_file', ...(line === undefined ? {} : { line }), code: 'user_without_password', message: `user ${JSON.stringify(name)} has an ACL block but no password line: MCM drops its password (it cannot log in with these files)` });
    }
  }
  const stateNames = Object.keys(state.users).sort(byCodeUnit);
  for (const name of stateNames) {
    const user = state.users[name];
    if (!user || user.disabled || name === given.serviceAccount || passwordLines.has(name) || aclUsers.has(name)) continue;
    // A file not given counts as what MCM renders: without a password file every user keeps its
    // line; without an acl_file a user without a password keeps its block.
    const inNeither = pw !== null && (acl !== null || user.passwordHash !== '');
    if (!inNeither) {
      enabledAfter.add(name);
      continue;
    }
    laterEvents.push({ type: 'MqttUserDisabled', data: { username: name } });
    summary.users_disabled++;
    differ('password_file', undefined, `- user ${name}: disabled (in neither file)`);
  }

  // Rules ------------------------------------------------------------------------------------
  const ruleEvents: DomainEvent[] = [];
  if (acl) {
    const byPrincipal = new Map<string, AclRule[]>();
    for (const r of Object.values(state.rules).sort((a, b) => a.id - b.id)) {
      const list = byPrincipal.get(r.principal);
      if (list) list.push(r);
      else byPrincipal.set(r.principal, [r]);
    }
    const fileLines = new Map<string, ImportedRule[]>();
    for (const r of acl.rules) {
      const list = fileLines.get(r.principal);
      if (list) list.push(r);
      else fileLines.set(r.principal, [r]);
    }
    let nextId = state.nextRuleId;
    const take = (): number => nextId++;
    const plan = (principal: Principal, username?: string): void => {
      const user = username === undefined ? undefined : own(state.users, username);
      const { changes, redundantLines } = planPrincipal({
        principal,
        fileLines: fileLines.get(principal) ?? [],
        direct: byPrincipal.get(principal) ?? [],
        roles: (user?.roles ?? []).map((role) => ({ role, rules: byPrincipal.get(`role:${role}`) ?? [] })),
        ...(username === undefined ? {} : { username }),
      }, take);
      for (const r of redundantLines) {
        warnings.push({ file: 'acl_file', line: r.line, code: 'line_redundant', message: `"${r.access} ${r.topic}" is covered by another line of the same list: the broker decides the same without it, so MCM does not keep it` });
      }
      for (const c of changes) record(c);
    };
    const record = (c: AclChange): void => {
      ruleEvents.push(c.event);
      if (c.kind === 'added') summary.rules_added++;
      else if (c.kind === 'removed') summary.rules_removed++;
      else summary.roles_revoked++;
      differ('acl_file', c.line, c.text);
    };
    plan('anonymous');
    for (const name of [...enabledAfter].sort(byCodeUnit)) plan(`user:${name}`, name);
    // Disabled users named in the file: their rules follow the file too (for the day they are enabled).
    for (const name of aclUsers) if (!enabledAfter.has(name)) plan(`user:${name}`, name);
    plan('pattern');
  }

  // Settings and adoption --------------------------------------------------------------------
  if (given.allowAnonymous !== null && given.allowAnonymous !== state.settings.allowAnonymous) {
    laterEvents.push({ type: 'AnonymousAccessChanged', data: { allowed: given.allowAnonymous } });
    summary.allow_anonymous_changed = true;
    differ('mosquitto_conf', undefined, `~ allow_anonymous ${given.allowAnonymous}`);
  }
  const adopt: { file: BrokerFileKind; sha256: string; path: string | null }[] = [];
  for (const [file, f] of [['password_file', given.passwordFile], ['acl_file', given.aclFile]] as const) {
    if (!f || given.owned.includes(file) || state.adoptedFiles?.[file]?.sha256 === f.sha256) continue;
    adopt.push({ file, sha256: f.sha256, path: f.path ?? null });
  }
  const events = [...userEvents, ...ruleEvents, ...laterEvents];
  if (adopt.length > 0) events.push({ type: 'BrokerFilesAdopted', data: { files: adopt, how: 'import' } });

  const limit = Math.max(0, Math.floor(opts.limit ?? DEFAULT_DIFFERENCE_LIMIT));
  const shown = limit === 0 ? [] : differences
    .sort((a, b) => FILE_RANK[a.file] - FILE_RANK[b.file] || (a.line ?? Infinity) - (b.line ?? Infinity) || a.order - b.order)
    .slice(0, limit)
    .map(({ order: _order, ...d }) => d);
  return {
    plan: { changes: events.length > 0, summary, differences: shown, differences_total: differences.length, adopt, warnings },
    events,
  };
};
