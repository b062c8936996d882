/**
 * A GitOps dir: one YAML file per bundle section (`settings.yaml`, `users.yaml`, `roles.yaml`,
 * `acls.yaml`, `schemas.yaml`, `broker.yaml`). Written deterministically — fixed key order (identity first),
 * two-space indent, no line folding (lineWidth 0, so a `$7$` hash never wraps), a fixed header
 * comment, no seq or time — so `mcm export` twice gives the same bytes and a diff shows only what
 * changed. Read strictly: YAML errors, unknown keys, bad values and broken references are all
 * reported, each with its file, line and JSON pointer, and nothing is applied.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Document, LineCounter, Node } from 'yaml';
import { yamlModule } from '../modules/yaml.ts';
import { DomainError, ERROR_CODES } from '../../core/errors.ts';
import {
  bundleProblems, emptyBundle, GITOPS_FORMAT_VERSION, GITOPS_SECTIONS, sortBundle,
  type BundleCheckOptions, type GitopsBundle, type GitopsSection,
} from '../../core/gitops-bundle.ts';
import { writeFileAtomicSync } from '../files/atomic-write-sync.ts';
import { compileJsonSchema } from '../http/routes/json-schemas.ts';
import { bundleShapeProblems, fileShapeProblems, type ShapeProblem } from './file-schema.ts';

export const gitopsFileName = (section: GitopsSection): string => `${section}.yaml`;
export const GITOPS_FILE_NAMES: readonly string[] = GITOPS_SECTIONS.map(gitopsFileName);

/** `file` is absent for a bundle given as JSON; `line` when the place exists in the file. */
export type GitopsFileProblem = { file?: string; line?: number; path: string; message: string };
export type GitopsReadResult = { ok: true; bundle: GitopsBundle } | { ok: false; problems: GitopsFileProblem[] };

const HOW_TO = ' Written by `mcm export`. Edit, review with `mcm plan --dir DIR`, apply with `mcm apply --dir DIR`.';
const HEADERS: Readonly<Record<GitopsSection, string>> = {
  settings: ' MCM GitOps: broker access settings (anonymous access; $7$ iterations for new password hashes).',
  users: ' MCM GitOps: MQTT users. password_hash is the Mosquitto $7$ hash, never a password; a new hash rotates the password.',
  roles: ' MCM GitOps: roles and their ACL rules; users.yaml grants them.',
  acls: ' MCM GitOps: ACL rules of users (user:<name>), anonymous clients and patterns (%u, %c); role rules are in roles.yaml.',
  schemas: ' MCM GitOps: JSON schemas checked against observed payloads (observe-only).',
  broker: ' MCM GitOps: the broker configuration (mosquitto.conf): listeners, options, bridges, passthrough, in the broker API\'s shape.\n' +
    ' Certificates are named (mcm certs add) and bridge passwords referenced, never included: they must be in the data dir.\n' +
    ' A missing broker.yaml is the empty configuration (no listeners of your own).',
};

const TO_STRING = { indent: 2, lineWidth: 0, minContentWidth: 0 } as const;

/** name → YAML text of every file, from the canonical (sorted) form of `bundle`. */
export const renderGitopsFiles = (bundle: GitopsBundle): Record<string, string> => {
  const b = sortBundle(bundle);
  const out: Record<string, string> = {};
  for (const section of GITOPS_SECTIONS) {
    const doc = new (yamlModule().Document)({ version: GITOPS_FORMAT_VERSION, [section]: b[section] });
    doc.commentBefore = `${HEADERS[section]}\n${HOW_TO}`;
    out[gitopsFileName(section)] = doc.toString(TO_STRING);
  }
  return out;
};

/** Writes every file of `bundle` into `dir` (created when missing), each atomically; unchanged files are left alone. */
export const writeGitopsDir = (dir: string, bundle: GitopsBundle): { written: string[]; unchanged: string[] } => {
  mkdirSync(dir, { recursive: true, mode: 0o750 });
  const written: string[] = [];
  const unchanged: string[] = [];
  for (const [name, text] of Object.entries(renderGitopsFiles(bundle))) {
    const path = join(dir, name);
    let old: string | null = null;
    try { old = readFileSync(path, 'utf8'); } catch { /* new file */ }
    if (old === text) {
      unchanged.push(name);
      continue;
    }
    // users.yaml holds password hashes: keep the files private to the operator.
    writeFileAtomicSync(path, text, 0o600);
    written.push(name);
  }
  return { written, unchanged };
};

/** The node at a JSON pointer (the key node when `key` is set and the last step is a map key). */
const nodeAt = (doc: Document, path: string, key: boolean): Node | null => {
  let node: unknown = doc.contents;
  const steps = path === '' ? [] : path.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  for (const [i, step] of steps.entries()) {
    if (yamlModule().isMap(node)) {
      const pair = node.items.find((p) => yamlModule().isPair(p) && yamlModule().isScalar(p.key) && String(p.key.value) === step);
      if (!pair) return (node as Node);
      node = key && i === steps.length - 1 ? pair.key : pair.value;
    } else if (yamlModule().isSeq(node)) {
      const item = node.items[Number(step)];
      if (item === undefined) return node as Node;
      node = item;
    } else break;
  }
  return (node ?? null) as Node | null;
};

type ParsedFile = { section: GitopsSection; doc: Document; lines: LineCounter; value: unknown };

const lineOf = (f: ParsedFile, path: string, key = false): number | undefined => {
  const offset = nodeAt(f.doc, path, key)?.range?.[0];
  return offset === undefined ? undefined : f.lines.linePos(offset).line;
};

const located = (f: ParsedFile, p: ShapeProblem, key = false): GitopsFileProblem => {
  const line = lineOf(f, p.path, key);
  return { file: gitopsFileName(f.section), ...(line === undefined ? {} : { line }), path: p.path, message: p.message };
};

const parseFile = (section: GitopsSection, text: string, problems: GitopsFileProblem[]): ParsedFile | null => {
  const file = gitopsFileName(section);
  const lines = new (yamlModule().LineCounter)();
  const doc = yamlModule().parseDocument(text, { lineCounter: lines, schema: 'core', uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    for (const e of doc.errors) problems.push({ file, line: lines.linePos(e.pos[0]).line, path: '', message: `YAML: ${e.message.split('\n')[0] ?? e.code}` });
    return null;
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    problems.push({ file, path: '', message: `YAML: ${(e as Error).message}` });
    return null;
  }
  const f: ParsedFile = { section, doc, lines, value };
  const shape = fileShapeProblems(section, value);
  problems.push(...byLine(shape.map((p) => located(f, p, p.message.startsWith('unknown key')))));
  return shape.length === 0 ? f : null;
};

/** In file order, then line order (stable: problems on one line keep their order). */
const byLine = (problems: GitopsFileProblem[]): GitopsFileProblem[] => {
  const rank = (p: GitopsFileProblem): number => {
    const i = GITOPS_FILE_NAMES.indexOf(p.file ?? '');
    return i < 0 ? GITOPS_FILE_NAMES.length : i;
  };
  return problems.map((p, i) => ({ p, i }))
    .sort((a, b) => rank(a.p) - rank(b.p) || (a.p.line ?? 0) - (b.p.line ?? 0) || a.i - b.i)
    .map(({ p }) => p);
};

type Loose = Record<string, unknown>;

/** Shape-checked values with the defaults of an empty data dir filled in. */
const normalise = (sections: Partial<Record<GitopsSection, unknown>>): GitopsBundle => {
  const b = emptyBundle();
  const s = (sections.settings ?? {}) as Loose;
  if (typeof s['allow_anonymous'] === 'boolean') b.settings.allow_anonymous = s['allow_anonymous'];
  if (typeof s['hash_iterations'] === 'number') b.settings.hash_iterations = s['hash_iterations'];
  const list = (v: unknown): Loose[] => (Array.isArray(v) ? (v as Loose[]) : []);
  const text = (v: unknown): string => (typeof v === 'string' ? v : '');
  b.users = list(sections.users).map((u) => ({
    username: text(u['username']), password_hash: text(u['password_hash']), description: text(u['description']),
    disabled: u['disabled'] === true, roles: (u['roles'] as string[] | undefined) ?? [],
  }));
  b.roles = list(sections.roles).map((r) => ({
    name: text(r['name']), description: text(r['description']),
    rules: list(r['rules']).map((x) => ({ topic: text(x['topic']), access: x['access'] as GitopsBundle['acls'][number]['access'], description: text(x['description']) })),
  }));
  b.acls = list(sections.acls).map((a) => ({
    principal: a['principal'] as GitopsBundle['acls'][number]['principal'], topic: text(a['topic']),
    access: a['access'] as GitopsBundle['acls'][number]['access'], description: text(a['description']),
  }));
  b.schemas = list(sections.schemas).map((x) => ({
    name: text(x['name']), topic_filter: text(x['topic_filter']), enabled: x['enabled'] !== false,
    description: text(x['description']), schema: x['schema'],
  }));
  const broker = (sections.broker ?? {}) as Loose;
  b.broker = {
    listeners: list(broker['listeners']), options: (broker['options'] as Loose | undefined) ?? {},
    bridges: list(broker['bridges']), passthrough: (broker['passthrough'] as string[] | undefined) ?? [],
  };
  return b;
};

/** The checks after the shape: core's semantic ones, and that every JSON schema compiles. */
const semanticProblems = (bundle: GitopsBundle, opts: BundleCheckOptions, where: (section: GitopsSection, path: string) => Omit<GitopsFileProblem, 'path' | 'message'>): GitopsFileProblem[] => {
  const problems = bundleProblems(bundle, opts).map((p) => ({ ...where(p.section, p.path), path: p.path, message: p.message }));
  bundle.schemas.forEach((s, i) => {
    try {
      compileJsonSchema(s.schema);
    } catch (e) {
      const path = `/schemas/${i}/schema`;
      problems.push({ ...where('schemas', path), path, message: (e as Error).message });
    }
  });
  return problems;
};

/** Parses and checks files given as name → YAML text (a dir's files, or `POST /plan {files}`). */
export const parseGitopsFiles = (files: Readonly<Record<string, string>>, opts: BundleCheckOptions): GitopsReadResult => {
  const problems: GitopsFileProblem[] = [];
  const names = Object.keys(files);
  for (const name of names) {
    if (!GITOPS_FILE_NAMES.includes(name)) {
      problems.push({ file: name, path: '', message: `unknown GitOps file (expected ${GITOPS_FILE_NAMES.join(', ')})` });
    }
  }
  if (names.length === 0) problems.push({ path: '', message: `no GitOps files given (expected ${GITOPS_FILE_NAMES.join(', ')})` });
  const parsed = new Map<GitopsSection, ParsedFile>();
  for (const section of GITOPS_SECTIONS) {
    const text = Object.hasOwn(files, gitopsFileName(section)) ? files[gitopsFileName(section)] : undefined;
    if (text === undefined) continue;
    const f = parseFile(section, text, problems);
    if (f) parsed.set(section, f);
  }
  if (problems.length > 0) return { ok: false, problems };
  const sections: Partial<Record<GitopsSection, unknown>> = {};
  for (const [section, f] of parsed) sections[section] = (f.value as Loose)[section];
  const bundle = normalise(sections);
  const semantic = semanticProblems(bundle, opts, (section, path) => {
    const f = parsed.get(section);
    const line = f ? lineOf(f, path) : undefined;
    return { file: gitopsFileName(section), ...(line === undefined ? {} : { line }) };
  });
  return semantic.length > 0 ? { ok: false, problems: byLine(semantic) } : { ok: true, bundle: sortBundle(bundle) };
};

/** Reads a GitOps dir: the known files present (a missing one = that section empty), nothing else. */
export const readGitopsDir = (dir: string, opts: BundleCheckOptions): GitopsReadResult => {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    return { ok: false, problems: [{ file: dir, path: '', message: 'is not a directory' }] };
  }
  const files: Record<string, string> = {};
  const problems: GitopsFileProblem[] = [];
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch (e) {
    return { ok: false, problems: [{ file: dir, path: '', message: `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` }] };
  }
  for (const name of names) {
    // Hidden files (editor swap files, our own temp files, .git) and non-YAML files are not ours.
    if (name.startsWith('.') || !/\.ya?ml$/i.test(name)) continue;
    if (!GITOPS_FILE_NAMES.includes(name)) {
      // A misspelt `user.yaml` would otherwise read as "no users": delete them all.
      problems.push({ file: name, path: '', message: `unknown GitOps file (expected ${GITOPS_FILE_NAMES.join(', ')})` });
      continue;
    }
    try {
      files[name] = readFileSync(join(dir, name), 'utf8');
    } catch (e) {
      problems.push({ file: name, path: '', message: `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` });
    }
  }
  if (problems.length > 0) return { ok: false, problems };
  if (Object.keys(files).length === 0) {
    return { ok: false, problems: [{ file: dir, path: '', message: `holds no GitOps files (expected ${GITOPS_FILE_NAMES.join(', ')})` }] };
  }
  return parseGitopsFiles(files, opts);
};

/** Checks a bundle given as JSON (`POST /plan {bundle}`). */
export const checkBundleValue = (value: unknown, opts: BundleCheckOptions): GitopsReadResult => {
  const shape = bundleShapeProblems(value);
  if (shape.length > 0) return { ok: false, problems: shape };
  const v = value as Partial<Record<GitopsSection, unknown>>;
  const bundle = normalise(v);
  const semantic = semanticProblems(bundle, opts, () => ({}));
  return semantic.length > 0 ? { ok: false, problems: semantic } : { ok: true, bundle: sortBundle(bundle) };
};

/** `users.yaml:12 /users/1/roles/0: role "x" is not defined in roles.yaml` */
export const formatProblem = (p: GitopsFileProblem): string =>
  `${p.file ?? 'bundle'}${p.line === undefined ? '' : `:${p.line}`}${p.path === '' ? '' : ` ${p.path}`}: ${p.message}`;

/** MCM_ERR_GITOPS_INVALID with every problem in the details (HTTP 400) and in the message. */
export const gitopsInvalid = (problems: readonly GitopsFileProblem[]): DomainError =>
  new DomainError(
    ERROR_CODES.GITOPS_INVALID,
    `the GitOps files have ${problems.length} problem${problems.length === 1 ? '' : 's'}, nothing was changed:\n${problems.map((p) => `  ${formatProblem(p)}`).join('\n')}`,
    problems.map((p) => ({ ...p })),
  );
