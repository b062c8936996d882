/**
 * `mcm import --conf F` and a posted `mosquitto_conf`: what a mosquitto.conf says, read as the
 * broker reads it, following `include_dir` (the files ending `.conf` in that directory, in name
 * order). Two parsers read the same texts: where the password and ACL files are, in either form
 * (`password_file`/`acl_file`, or 2.1's `plugin …mosquitto_password_file.so` with
 * `plugin_opt_password_file`; reference §8), and the broker configuration (listeners, options,
 * bridges, passthrough; core/import/parse-broker-conf.ts), for which the TLS files it names are
 * read too. Core parses; this module reads (from a ConfSource: the disk or the request) and merges.
 */
import type { ImportProblem, ImportWarning } from '../../core/import/import-types.ts';
import { parseBrokerConf, type ConfCertificate, type ConfOrigin, type ConfText, type ParseBrokerConfOptions, type ParsedBrokerConf } from '../../core/import/parse-broker-conf.ts';
import { parseMosquittoConf } from '../../core/import/parse-mosquitto-conf.ts';
import { diskConfSource, type ConfSource } from './conf-source.ts';
import { importInvalid } from './import-file.ts';

/** A TLS file pair the conf names, with its contents. */
export type TlsFile = Readonly<{ certificate: ConfCertificate; certPem: string; keyPem: string | null }>;

export type ConfPaths = Readonly<{
  /** The main file and every included one, in the order read. */
  files: readonly string[];
  passwordFile: string | null;
  aclFile: string | null;
  allowAnonymous: boolean | null;
  /** True when any file uses 2.1's plugin form. */
  pluginForm: boolean;
  /** What the operator should know about the conf (allow_anonymous per listener, passthrough lines, …). */
  warnings: readonly ImportWarning[];
  /** The main file's text: what `mcm import` sends to a running server as `mosquitto_conf`. */
  text: string;
  /** The other files read (included confs, TLS files), by the path as the conf writes it: sent as `conf_files`. */
  sent: Readonly<Record<string, string>>;
  /** The broker configuration the conf describes, and the TLS files it names. */
  broker: Readonly<{ parsed: ParsedBrokerConf; tlsFiles: readonly TlsFile[] }>;
}>;

export type ReadConfOptions = Readonly<{
  /** How the main file is shown in messages and `files`. */
  mainPath: string;
  mainText: string;
  /** What MCM renders itself (user, persistence location), for warnings where the conf differs. */
  owned?: ParseBrokerConfOptions['owned'];
}>;

/**
 * Reads a conf from `source`: the main text given, its include_dir files and the TLS files.
 * Refuses (MCM_ERR_IMPORT_INVALID) with every problem of every file.
 */
export const readConf = (source: ConfSource, opts: ReadConfOptions): ConfPaths => {
  const order: string[] = [];
  const problems: ImportProblem[] = [];
  const warnings: ImportWarning[] = [];
  const sent: Record<string, string> = {};
  const included = new Map<string, ConfText[]>();
  let passwordFile: string | null = null;
  let aclFile: string | null = null;
  let allowAnonymous: boolean | null = null;
  let pluginForm = false;

  const fileWide = (message: string): void => { problems.push({ file: 'mosquitto_conf', line: 0, message }); };

  const parseOne = (path: string, text: string, main: boolean): void => {
    order.push(path);
    const parsed = parseMosquittoConf(text);
    const named = (m: string): string => (main ? m : `${path}: ${m}`);
    for (const p of parsed.problems) problems.push({ ...p, message: named(p.message) });
    for (const w of parsed.warnings) warnings.push({ ...w, message: named(w.message) });
    const one = (kind: string, before: string | null, now: string | null): string | null => {
      if (now === null) return before;
      const p = source.pathOf(now);
      if (before !== null && before !== p) problems.push({ file: 'mosquitto_conf', line: 0, message: named(`a second ${kind} ${p} (an earlier file names ${before}): MCM manages one of each`) });
      return p;
    };
    passwordFile = one('password file', passwordFile, parsed.passwordFile);
    aclFile = one('ACL file', aclFile, parsed.aclFile);
    if (parsed.allowAnonymous !== null) allowAnonymous = parsed.allowAnonymous;
    pluginForm ||= parsed.pluginForm;
    if (!main) {
      if (parsed.includeDirs.length > 0) fileWide(`${path}: include_dir inside an included file is not followed by mcm import; name the files with --password-file/--acl-file`);
      return;
    }
    for (const dir of parsed.includeDirs) {
      const listed = source.list(dir);
      if (!Array.isArray(listed)) { fileWide(`${opts.mainPath}: ${listed.problem}`); continue; }
      const texts: ConfText[] = [];
      for (const name of listed) {
        const got = source.read(name);
        if ('problem' in got) { fileWide(got.problem); continue; }
        sent[name] = got.text;
        texts.push({ path: source.pathOf(name), text: got.text });
        parseOne(source.pathOf(name), got.text, false);
      }
      included.set(dir, texts);
    }
  };

  parseOne(opts.mainPath, opts.mainText, true);
  const parsed = parseBrokerConf(opts.mainText, { included, ...(opts.owned === undefined ? {} : { owned: opts.owned }) });
  problems.push(...parsed.problems);
  warnings.push(...parsed.warnings);

  const tlsFiles: TlsFile[] = [];
  for (const c of parsed.files.certificates) {
    const read = (named: string, o: ConfOrigin): string | null => {
      const got = source.read(named);
      if ('problem' in got) {
        problems.push({ file: 'mosquitto_conf', line: o.line, message: o.source === null ? got.problem : `${o.source}: ${got.problem}` });
        return null;
      }
      sent[named] = got.text;
      return got.text;
    };
    const certPem = read(c.certfile, c.origin);
    const keyPem = c.keyfile === null ? null : read(c.keyfile, c.keyOrigin ?? c.origin);
    if (certPem !== null && (c.keyfile === null || keyPem !== null)) tlsFiles.push({ certificate: c, certPem, keyPem });
  }

  if (problems.length > 0) throw importInvalid(problems, opts.mainPath);
  return { files: order, passwordFile, aclFile, allowAnonymous, pluginForm, warnings, text: opts.mainText, sent, broker: { parsed, tlsFiles } };
};

/** Reads `confPath` from the disk, with its include_dir files and TLS files; refuses (MCM_ERR_IMPORT_INVALID) on any problem. */
export const readMosquittoConf = (confPath: string): ConfPaths => {
  const source = diskConfSource(confPath);
  const main = source.read(confPath);
  if ('problem' in main) throw importInvalid([{ file: 'mosquitto_conf', line: 0, message: main.problem }], confPath);
  return readConf(source, { mainPath: confPath, mainText: main.text });
};
