/**
 * The ImportInput of `mcm import` and `POST /import`, built the same way for both: the files read
 * (configured paths, explicit ones, or those a mosquitto.conf names), hashed, and judged against
 * MCM's last-known-good files to know which are MCM's own already (no adoption record needed).
 */
import type { BrokerFileKind, BrokerLine, ImportFile, ImportInput } from '../../core/import/import-types.ts';
import { importInvalid, readImportFile } from './import-file.ts';
import { readMosquittoConf, type ConfPaths } from './read-mosquitto-conf.ts';

export type ImportPaths = Readonly<{
  /** Explicit paths (resolved); any of them given means only those are read. */
  passwordFile?: string | null;
  aclFile?: string | null;
  conf?: string | null;
  /** The files MCM is configured with (config mosquitto.password_file / acl_file; supervised: <data>/mosquitto/{passwd,acl}). */
  configured: Readonly<{ passwordFile: string; aclFile: string }>;
}>;

export type ImportFiles = Readonly<{
  passwordFile: ImportFile | null;
  aclFile: ImportFile | null;
  allowAnonymous: boolean | null;
  conf: ConfPaths | null;
  /** Where the files were read from, for the actor id and messages. */
  paths: readonly string[];
}>;

/**
 * Reads the files an import is about. Without explicit paths the configured files are read, and
 * one that does not exist is left out (a new install has none yet); explicit files must exist.
 * Throws MCM_ERR_IMPORT_INVALID (details `{file, line, message}`) when nothing can be imported.
 */
export const readImportFiles = (req: ImportPaths): ImportFiles => {
  const explicit = Boolean(req.passwordFile || req.aclFile || req.conf);
  const conf = req.conf ? readMosquittoConf(req.conf) : null;
  if (conf && !req.passwordFile && !req.aclFile && conf.passwordFile === null && conf.aclFile === null) {
    throw importInvalid([{ file: 'mosquitto_conf', line: 0, message: `${req.conf} names neither a password file nor an ACL file (password_file/acl_file or plugin_opt_password_file/plugin_opt_acl_file)` }], req.conf ?? undefined);
  }
  const pwPath = explicit ? req.passwordFile || conf?.passwordFile || null : req.configured.passwordFile;
  const aclPath = explicit ? req.aclFile || conf?.aclFile || null : req.configured.aclFile;
  const passwordFile = pwPath === null ? null : readImportFile(pwPath, 'password_file', { missingOk: !explicit });
  const aclFile = aclPath === null ? null : readImportFile(aclPath, 'acl_file', { missingOk: !explicit });
  if (passwordFile === null && aclFile === null) {
    throw importInvalid([{ file: 'password_file', line: 0, message: `neither configured file exists (${req.configured.passwordFile}, ${req.configured.aclFile}): name the files with --password-file/--acl-file or --conf` }]);
  }
  const paths = [passwordFile?.path, aclFile?.path].filter((p): p is string => typeof p === 'string');
  return { passwordFile, aclFile, allowAnonymous: conf?.allowAnonymous ?? null, conf, paths };
};

/**
 * The files that are MCM's own already: byte-equal (same sha256) to the last file MCM wrote and
 * saw the broker confirm (the apply loop's last-known-good set, adapters/apply/good-files.ts).
 */
export const ownedFiles = (
  files: Readonly<Partial<Record<BrokerFileKind, ImportFile | null>>>,
  lastGood: ReadonlyMap<string, { sha256: string }>,
): BrokerFileKind[] =>
  (['password_file', 'acl_file'] as const).filter((kind) => {
    const f = files[kind];
    return f !== null && f !== undefined && lastGood.get(kind)?.sha256 === f.sha256;
  });

export type InputContext = Readonly<{
  serviceAccount: string;
  brokerLine: BrokerLine;
  /** name → sha256 of the apply loop's last-known-good files (ApplyResults.lastGoodFiles()). */
  lastGood: ReadonlyMap<string, { sha256: string }>;
}>;

export const buildImportInput = (
  files: Readonly<{ passwordFile: ImportFile | null; aclFile: ImportFile | null; allowAnonymous: boolean | null }>,
  ctx: InputContext,
): ImportInput => ({
  passwordFile: files.passwordFile,
  aclFile: files.aclFile,
  allowAnonymous: files.allowAnonymous,
  serviceAccount: ctx.serviceAccount,
  brokerLine: ctx.brokerLine,
  owned: ownedFiles({ password_file: files.passwordFile, acl_file: files.aclFile }, ctx.lastGood),
});
