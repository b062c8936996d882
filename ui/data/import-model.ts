/**
 * The import screen's data (issue 11, "Adopt an existing Mosquitto"): the body of POST
 * /api/v1/import for either source (the files MCM is configured with, or pasted/uploaded
 * contents), the plan read back and checked, the outcome of a refused import (each bad line with
 * its file and line number: nothing changed) or a stale plan (412: plan again), and the words
 * the screen shows (summary rows, warnings grouped by code, the confirmation).
 * No DOM: tested against the real HTTP app in tests/ui/import-model.test.ts. The shapes mirror
 * core/import/import-types.ts, imported as types; ui/ never imports server code.
 */
import { ApiError, type ApiClient } from './api-client.ts';
import { seqFromEtag } from './access-apply.ts';
import type { ImportDifference, ImportProblem, ImportSummary, ImportWarning } from '../../core/import/import-types.ts';

export type ImportFileKind = 'password_file' | 'acl_file' | 'mosquitto_conf';

// The plan's pieces are the core's own types (type-only: nothing of the server is bundled), so
// the screen and the planner can't drift apart.
export type { ImportDifference, ImportProblem, ImportSummary, ImportWarning } from '../../core/import/import-types.ts';
export type AdoptedFile = { file: 'password_file' | 'acl_file'; sha256: string; path: string | null };

/** The answer of POST /import (plan; apply adds events_count and applied_seq). */
export type ImportPlanView = {
  seq: number;
  changes: boolean;
  summary: ImportSummary;
  differences: ImportDifference[];
  differences_total: number;
  warnings: ImportWarning[];
  adopt: AdoptedFile[];
  broker_version: string | null;
  /** Apply only: events appended (0: nothing to do); `seq` is then the new head. */
  events_count?: number;
  /** Apply only: the generation the broker ran when the import was appended. */
  applied_seq?: number;
};

/** Where the files come from: MCM's configured files (the server reads them) or the admin's text. */
export type ImportSource =
  | { kind: 'configured' }
  | { kind: 'pasted'; passwordFile: string; aclFile: string };

export type ImportRequest = {
  mode: 'plan' | 'apply';
  password_file?: string;
  acl_file?: string;
  expected_seq?: number;
};

export const FILE_LABELS: Readonly<Record<ImportFileKind, string>> = {
  password_file: 'Password file',
  acl_file: 'ACL file',
  mosquitto_conf: 'mosquitto.conf',
};

export const fileLabel = (file: string): string => FILE_LABELS[file as ImportFileKind] ?? file;

/** Why the source can't be planned yet, or null. A pasted file left empty is not imported. */
export const sourceProblem = (source: ImportSource): string | null =>
  source.kind === 'pasted' && source.passwordFile.trim() === '' && source.aclFile.trim() === ''
    ? 'paste or upload a password file, an ACL file, or both'
    : null;

/**
 * The request body. Configured: no contents, the server reads its files. Pasted: only the files
 * given (an empty text area is "not given", not "an empty file"). Apply carries the seq the plan
 * was made at: the server refuses it (412) when anything changed since.
 */
export const importRequest = (mode: 'plan' | 'apply', source: ImportSource, expectedSeq?: number): ImportRequest => {
  const body: ImportRequest = { mode };
  if (source.kind === 'pasted') {
    if (source.passwordFile.trim() !== '') body.password_file = source.passwordFile;
    if (source.aclFile.trim() !== '') body.acl_file = source.aclFile;
  }
  if (mode === 'apply' && expectedSeq !== undefined) body.expected_seq = expectedSeq;
  return body;
};

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);
const FILES: readonly string[] = ['password_file', 'acl_file', 'mosquitto_conf'];
const fileOf = (v: unknown): ImportFileKind => (typeof v === 'string' && FILES.includes(v) ? (v as ImportFileKind) : 'password_file');
const lineOf = (v: unknown): { line?: number } => (isInt(v) && v > 0 ? { line: v } : {});

const SUMMARY_COUNTS = [
  'users_in_files', 'rules_in_files', 'users_created', 'users_password_changed', 'users_enabled', 'users_disabled',
  'users_without_password', 'rules_added', 'rules_removed', 'roles_revoked',
] as const;

/** The plan or apply answer, checked; null when it is not that shape. */
export const parsePlan = (v: unknown): ImportPlanView | null => {
  if (!isRec(v) || !isInt(v['seq']) || typeof v['changes'] !== 'boolean' || !isRec(v['summary'])) return null;
  const s = v['summary'];
  const summary = {} as ImportSummary;
  for (const k of SUMMARY_COUNTS) summary[k] = isInt(s[k]) ? s[k] : 0;
  summary.allow_anonymous_changed = s['allow_anonymous_changed'] === true;
  const list = (x: unknown): Rec[] => (Array.isArray(x) ? x.filter(isRec) : []);
  const differences = list(v['differences']).map((d) => ({ file: fileOf(d['file']), ...lineOf(d['line']), text: String(d['text'] ?? '') }));
  const plan: ImportPlanView = {
    seq: v['seq'],
    changes: v['changes'],
    summary,
    differences,
    differences_total: isInt(v['differences_total']) ? v['differences_total'] : differences.length,
    warnings: list(v['warnings']).map((w) => ({ file: fileOf(w['file']), ...lineOf(w['line']), code: String(w['code'] ?? ''), message: String(w['message'] ?? '') })),
    adopt: list(v['adopt']).filter((a) => a['file'] === 'password_file' || a['file'] === 'acl_file').map((a) => ({
      file: a['file'] as AdoptedFile['file'],
      sha256: String(a['sha256'] ?? ''),
      path: typeof a['path'] === 'string' ? a['path'] : null,
    })),
    broker_version: typeof v['broker_version'] === 'string' ? v['broker_version'] : null,
  };
  if (isInt(v['events_count'])) plan.events_count = v['events_count'];
  if (isInt(v['applied_seq'])) plan.applied_seq = v['applied_seq'];
  return plan;
};

/** Each bad line of a refused import (MCM_ERR_IMPORT_INVALID details), in file then line order. */
export const parseProblems = (details: readonly unknown[]): ImportProblem[] =>
  details.filter(isRec).map((d) => ({ file: fileOf(d['file']), line: isInt(d['line']) ? d['line'] : 0, message: String(d['message'] ?? '') }))
    .sort((a, b) => FILES.indexOf(a.file) - FILES.indexOf(b.file) || a.line - b.line);

export type ImportOutcome =
  /** A plan (mode plan) or what was applied (mode apply); `writeSeq`: the seq to follow the apply of. */
  | { kind: 'ok'; plan: ImportPlanView; writeSeq: number | null }
  /** 400 MCM_ERR_IMPORT_INVALID: nothing changed. */
  | { kind: 'invalid'; message: string; problems: ImportProblem[] }
  /** 412: the configuration changed since the plan; plan again. */
  | { kind: 'stale'; message: string }
  | { kind: 'error'; message: string; code: string; status: number };

/** POST /import and what came of it (refusals are outcomes, not exceptions). */
export const runImport = async (api: ApiClient, body: ImportRequest): Promise<ImportOutcome> => {
  try {
    const res = await api.request<unknown>('POST', '/import', { body });
    const plan = parsePlan(res.body);
    if (!plan) return { kind: 'error', message: 'the server answered with something that is not an import plan', code: 'MCM_ERR_UI_SHAPE', status: res.status };
    // Apply answers the new head as `seq` (and in the ETag): the change whose apply to follow.
    // `applied_seq` there is the generation the broker ran at the time, not this change.
    const writeSeq = body.mode === 'apply' && (plan.events_count ?? 1) > 0 ? (seqFromEtag(res.etag) ?? plan.seq) : null;
    return { kind: 'ok', plan, writeSeq };
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    if (err.code === 'MCM_ERR_IMPORT_INVALID') return { kind: 'invalid', message: err.message, problems: parseProblems(err.details) };
    if (err.status === 412 || err.code === 'MCM_ERR_STALE_STREAM') return { kind: 'stale', message: err.message };
    return { kind: 'error', message: err.message, code: err.code, status: err.status };
  }
};

/** What applying would do at all: any change, or only the adoption record (MCM may then replace the files). */
export const applyWouldDo = (plan: ImportPlanView): 'changes' | 'adopt-only' | 'nothing' =>
  plan.changes ? 'changes' : plan.adopt.length > 0 ? 'adopt-only' : 'nothing';

export type SummaryRow = { key: keyof ImportSummary; label: string; value: string; tone: '' | 'warn' };

const count = (n: number): string => n.toLocaleString('en-US');

/** The summary's counts in words; users MCM would disable are flagged (they lose access). */
export const summaryRows = (s: ImportSummary): SummaryRow[] => [
  { key: 'users_in_files', label: 'Users in the files', value: count(s.users_in_files), tone: '' },
  { key: 'rules_in_files', label: 'ACL rules in the files', value: count(s.rules_in_files), tone: '' },
  { key: 'users_created', label: 'Users to create', value: count(s.users_created), tone: '' },
  { key: 'users_password_changed', label: 'Passwords to change', value: count(s.users_password_changed), tone: '' },
  { key: 'users_enabled', label: 'Users to enable', value: count(s.users_enabled), tone: '' },
  { key: 'users_disabled', label: 'MCM users to disable (not in the files)', value: count(s.users_disabled), tone: s.users_disabled > 0 ? 'warn' : '' },
  { key: 'users_without_password', label: 'Users without a password (ACL file only)', value: count(s.users_without_password), tone: s.users_without_password > 0 ? 'warn' : '' },
  { key: 'rules_added', label: 'Rules to add', value: count(s.rules_added), tone: '' },
  { key: 'rules_removed', label: 'Rules to remove', value: count(s.rules_removed), tone: s.rules_removed > 0 ? 'warn' : '' },
  { key: 'roles_revoked', label: 'Role grants to revoke', value: count(s.roles_revoked), tone: s.roles_revoked > 0 ? 'warn' : '' },
  { key: 'allow_anonymous_changed', label: 'allow_anonymous changes', value: s.allow_anonymous_changed ? 'yes' : 'no', tone: s.allow_anonymous_changed ? 'warn' : '' },
];

export type WarningGroup = { code: string; count: number; items: ImportWarning[] };

/** Every warning, grouped by code (first-seen order), each group in file then line order. */
export const groupWarnings = (warnings: readonly ImportWarning[]): WarningGroup[] => {
  const groups = new Map<string, ImportWarning[]>();
  for (const w of warnings) {
    const g = groups.get(w.code);
    if (g) g.push(w);
    else groups.set(w.code, [w]);
  }
  return [...groups].map(([code, items]) => ({
    code,
    count: items.length,
    items: items.sort((a, b) => FILES.indexOf(a.file) - FILES.indexOf(b.file) || (a.line ?? 0) - (b.line ?? 0)),
  }));
};

/** "ACL file, line 7" / "Password file" (a file-wide warning). */
export const where = (item: { file: string; line?: number }): string =>
  item.line !== undefined && item.line > 0 ? `${fileLabel(item.file)}, line ${item.line}` : fileLabel(item.file);

/** "Showing the first 50 of 1,234 differences." or "" when all are shown. */
export const differencesNote = (plan: ImportPlanView): string =>
  plan.differences_total > plan.differences.length
    ? `Showing the first ${count(plan.differences.length)} of ${count(plan.differences_total)} differences.`
    : '';

/** The confirmation dialog's words: what applying does, and to whom it matters. */
export const confirmText = (plan: ImportPlanView): { title: string; message: string; confirm: string } => {
  const s = plan.summary;
  const parts: string[] = [];
  if (s.users_created > 0) parts.push(`create ${count(s.users_created)} user${s.users_created === 1 ? '' : 's'}`);
  if (s.users_password_changed > 0) parts.push(`change ${count(s.users_password_changed)} password${s.users_password_changed === 1 ? '' : 's'}`);
  if (s.users_enabled > 0) parts.push(`enable ${count(s.users_enabled)} user${s.users_enabled === 1 ? '' : 's'}`);
  if (s.users_disabled > 0) parts.push(`disable ${count(s.users_disabled)} MCM user${s.users_disabled === 1 ? '' : 's'} that the files do not have`);
  if (s.rules_added > 0) parts.push(`add ${count(s.rules_added)} rule${s.rules_added === 1 ? '' : 's'}`);
  if (s.rules_removed > 0) parts.push(`remove ${count(s.rules_removed)} rule${s.rules_removed === 1 ? '' : 's'}`);
  if (s.roles_revoked > 0) parts.push(`revoke ${count(s.roles_revoked)} role grant${s.roles_revoked === 1 ? '' : 's'}`);
  if (s.allow_anonymous_changed) parts.push('change allow_anonymous');
  const what = parts.length > 0 ? `This will ${parts.join(', ')} in MCM, as one change.` : 'MCM already matches these files: only the adoption is recorded.';
  const files = plan.adopt.map((a) => a.path ?? fileLabel(a.file)).join(' and ');
  const then = plan.adopt.length > 0
    ? ` MCM then owns ${files}: it renders them from its own state and reloads the broker; the originals are kept beside them as .pre-mcm copies.`
    : ' MCM then renders the broker files from its own state and reloads the broker.';
  return { title: 'Apply the import?', message: `${what}${then}`, confirm: 'Apply the import' };
};

/** A shortened hash for display ("1a2b3c4d5e6f…"). */
export const shortHash = (sha256: string): string => (sha256.length > 12 ? `${sha256.slice(0, 12)}…` : sha256);

/** The banner every screen shows while MCM waits for an import (apply state adoption_required). */
export type AdoptionBanner = { files: { label: string; path: string | null }[]; text: string; action: 'import' | 'ask-admin' };

export const adoptionBanner = (foreign: readonly { file: string; path: string | null }[] | null, isAdmin: boolean): AdoptionBanner | null => {
  if (foreign === null) return null;
  return {
    files: foreign.map((f) => ({ label: fileLabel(f.file), path: f.path })),
    text: 'MCM found broker files it did not write. To keep every user and rule in them, MCM writes nothing to the broker until they are imported; the broker keeps running on them untouched.',
    action: isAdmin ? 'import' : 'ask-admin',
  };
};
