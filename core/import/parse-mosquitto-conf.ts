/**
 * Finds the files an existing broker reads in its mosquitto.conf, in both forms (reference §8):
 * 2.0's `password_file` / `acl_file` and 2.1's password-file and acl-file plugins
 * (`plugin …/mosquitto_password_file.so` + `plugin_opt_password_file <path>`, likewise for acl).
 * Lines are read as the broker reads them: `#` in column 1 is a comment, the key is the first
 * space-separated word, a path is the rest of the line with blanks trimmed. `include_dir` is only
 * reported: the adapter reads the `.conf` files of that directory (alphabetical) and parses them
 * too. Paths are returned as written; resolving relative ones is the adapter's job.
 */
import type { ImportProblem, ImportWarning } from './import-types.ts';
import { restOfLine, spaceToken, splitLines, trimC } from './lines.ts';

export type ParsedMosquittoConf = {
  passwordFile: string | null;
  aclFile: string | null;
  /** The global allow_anonymous, or null when the file does not say (or listeners disagree). */
  allowAnonymous: boolean | null;
  includeDirs: string[];
  /** True when the file uses 2.1's plugin form for either file. */
  pluginForm: boolean;
  problems: ImportProblem[];
  warnings: ImportWarning[];
};

type FileKey = 'passwordFile' | 'aclFile';
const PLUGIN_LIBRARY: Record<FileKey, string> = { passwordFile: 'mosquitto_password_file.so', aclFile: 'mosquitto_acl_file.so' };
const KEY_OF: Record<string, { key: FileKey; plugin: boolean }> = {
  password_file: { key: 'passwordFile', plugin: false },
  acl_file: { key: 'aclFile', plugin: false },
  plugin_opt_password_file: { key: 'passwordFile', plugin: true },
  plugin_opt_acl_file: { key: 'aclFile', plugin: true },
};

export const parseMosquittoConf = (text: string): ParsedMosquittoConf => {
  const out: ParsedMosquittoConf = { passwordFile: null, aclFile: null, allowAnonymous: null, includeDirs: [], pluginForm: false, problems: [], warnings: [] };
  const problem = (line: number, message: string): void => { out.problems.push({ file: 'mosquitto_conf', line, message }); };
  const found: Partial<Record<FileKey, number>> = {};
  const anonymous = new Map<boolean, number>();
  let lastPlugin: string | null = null;
  let perListener = false;
  let lastAnonymous: boolean | null = null;

  splitLines(text).forEach((raw, i) => {
    const n = i + 1;
    if (raw.startsWith('#')) return;
    const line = raw.replace(/[\r\n]+$/, '');
    const first = spaceToken(line, 0);
    if (first === null) return;
    const word = trimC(first.token);
    const rest = restOfLine(line, first.next);
    const value = rest === null ? '' : trimC(rest);
    if (word === 'plugin' || word === 'global_plugin') {
      lastPlugin = value;
      if (Object.values(PLUGIN_LIBRARY).some((lib) => value.endsWith(`/${lib}`) || value === lib)) out.pluginForm = true;
      return;
    }
    if (word === 'include_dir') {
      if (value === '') return problem(n, 'include_dir without a directory');
      out.includeDirs.push(value);
      return;
    }
    if (word === 'allow_anonymous') {
      if (value !== 'true' && value !== 'false') return problem(n, `allow_anonymous must be true or false (got ${JSON.stringify(value)})`);
      lastAnonymous = value === 'true';
      anonymous.set(lastAnonymous, n);
      return;
    }
    if (word === 'per_listener_settings') {
      perListener = value === 'true';
      return;
    }
    const file = KEY_OF[word];
    if (!file) return;
    if (value === '') return problem(n, `${word} without a path`);
    if (file.plugin) {
      out.pluginForm = true;
      const library = PLUGIN_LIBRARY[file.key];
      if (lastPlugin === null || !(lastPlugin === library || lastPlugin.endsWith(`/${library}`))) {
        return problem(n, `${word} must follow "plugin …/${library}" (plugin options belong to the plugin line above them) [ref §8]`);
      }
    }
    const before = out[file.key];
    if (before !== null && before !== value) {
      return problem(n, `a second ${file.key === 'passwordFile' ? 'password file' : 'ACL file'} ${JSON.stringify(value)} (line ${found[file.key]} names ${JSON.stringify(before)}): MCM manages one of each`);
    }
    out[file.key] = value;
    found[file.key] ??= n;
  });
  // Without per_listener_settings the last allow_anonymous wins for the whole broker.
  out.allowAnonymous = lastAnonymous;
  if (perListener && anonymous.size > 1) {
    out.allowAnonymous = null;
    out.warnings.push({
      file: 'mosquitto_conf', line: Math.max(...anonymous.values()), code: 'allow_anonymous_per_listener',
      message: 'allow_anonymous is both true and false (per listener): MCM has one setting and leaves it as it is',
    });
  }
  return out;
};
