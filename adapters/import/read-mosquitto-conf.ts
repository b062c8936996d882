/**
 * `mcm import --conf F`: where a mosquitto.conf says the broker's files are, in either form
 * (`password_file`/`acl_file`, or 2.1's `plugin …mosquitto_password_file.so` with
 * `plugin_opt_password_file`; reference §8), following `include_dir` as the broker does: the
 * files ending `.conf` in that directory, in name order, read after the main file. Core parses
 * each text (core/import/parse-mosquitto-conf.ts); this module reads and merges.
 */
import { readdirSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { ImportProblem, ImportWarning } from '../../core/import/import-types.ts';
import { parseMosquittoConf } from '../../core/import/parse-mosquitto-conf.ts';
import { importInvalid, readImportFile } from './import-file.ts';

export type ConfPaths = Readonly<{
  /** The main file and every included one, in the order read. */
  files: readonly string[];
  passwordFile: string | null;
  aclFile: string | null;
  allowAnonymous: boolean | null;
  /** True when any file uses 2.1's plugin form. */
  pluginForm: boolean;
  /** What the operator should know about the conf (e.g. allow_anonymous differing per listener). */
  warnings: readonly ImportWarning[];
  /**
   * The texts read, joined (main file first, each included file after a `# include_dir: <path>`
   * comment): what `mcm import` sends to a running server as `mosquitto_conf`.
   */
  text: string;
}>;

/** Mosquitto sorts include_dir entries case-insensitively (conf.c scmp_p). */
const byName = (a: string, b: string): number => {
  const la = a.toLowerCase();
  const lb = b.toLowerCase();
  return la < lb ? -1 : la > lb ? 1 : a < b ? -1 : a > b ? 1 : 0;
};

/**
 * A path as a conf names it: absolute as is; relative ones against the main conf's directory (the
 * broker resolves them against its working directory, which mcm cannot know; configs that work
 * from anywhere use absolute paths).
 */
const pathFrom = (confPath: string, named: string): string => (isAbsolute(named) ? named : resolve(dirname(confPath), named));

const includedFiles = (dir: string, confPath: string, line: number): { files: string[]; problems: ImportProblem[] } => {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    return { files: [], problems: [{ file: 'mosquitto_conf', line, message: `${confPath}: include_dir ${dir} cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)})` }] };
  }
  const files = names
    .filter((n) => n.endsWith('.conf'))
    .sort(byName)
    .map((n) => join(dir, n))
    .filter((p) => { try { return statSync(p).isFile(); } catch { return false; } });
  return { files, problems: [] };
};

/** Reads `confPath` and its include_dir files; refuses (MCM_ERR_IMPORT_INVALID) on any problem. */
export const readMosquittoConf = (confPath: string): ConfPaths => {
  const order: string[] = [];
  const texts: string[] = [];
  const problems: ImportProblem[] = [];
  const warnings: ImportWarning[] = [];
  let passwordFile: string | null = null;
  let aclFile: string | null = null;
  let allowAnonymous: boolean | null = null;
  let pluginForm = false;

  const readOne = (path: string, main: boolean): void => {
    const file = readImportFile(path, 'mosquitto_conf');
    if (file === null) return;
    order.push(path);
    texts.push(main ? file.text : `# include_dir: ${path}\n${file.text}`);
    const parsed = parseMosquittoConf(file.text);
    const named = (m: string): string => (main ? m : `${path}: ${m}`);
    for (const p of parsed.problems) problems.push({ ...p, message: named(p.message) });
    for (const w of parsed.warnings) warnings.push({ ...w, message: named(w.message) });
    const one = (kind: string, before: string | null, now: string | null): string | null => {
      if (now === null) return before;
      const p = pathFrom(confPath, now);
      if (before !== null && before !== p) problems.push({ file: 'mosquitto_conf', line: 0, message: named(`a second ${kind} ${p} (an earlier file names ${before}): MCM manages one of each`) });
      return p;
    };
    passwordFile = one('password file', passwordFile, parsed.passwordFile);
    aclFile = one('ACL file', aclFile, parsed.aclFile);
    if (parsed.allowAnonymous !== null) allowAnonymous = parsed.allowAnonymous;
    pluginForm ||= parsed.pluginForm;
    if (!main) {
      if (parsed.includeDirs.length > 0) problems.push({ file: 'mosquitto_conf', line: 0, message: `${path}: include_dir inside an included file is not followed by mcm import; name the files with --password-file/--acl-file` });
      return;
    }
    for (const dir of parsed.includeDirs) {
      const found = includedFiles(pathFrom(confPath, dir), path, 0);
      problems.push(...found.problems);
      for (const f of found.files) readOne(f, false);
    }
  };

  readOne(confPath, true);
  if (problems.length > 0) throw importInvalid(problems, confPath);
  const text = texts.map((t, i) => (i < texts.length - 1 && t !== '' && !t.endsWith('\n') ? `${t}\n` : t)).join('');
  return { files: order, passwordFile, aclFile, allowAnonymous, pluginForm, warnings, text };
};
