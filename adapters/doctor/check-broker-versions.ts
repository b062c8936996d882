/**
 * What the broker's version does differently with the files MCM renders (issue "Adopt an
 * existing Mosquitto", reference §8): a 2.0 broker drops 64-byte-salt `$7$` lines and argon2id
 * hashes (those users cannot log in), and 2.1 substitutes `%u`/`%c` in patterns only as whole
 * levels and never for ids holding `/`, `+` or `#`. The files on disk are read with the import's
 * own parsers, so doctor, the import plan and the UI say the same thing.
 */
import { readFileSync } from 'node:fs';
import type { BrokerLine, ImportWarning } from '../../core/import/import-types.ts';
import { parseAclFile } from '../../core/import/parse-acl-file.ts';
import { parsePasswordFile } from '../../core/import/parse-password-file.ts';
import type { Config } from '../config/config.ts';
import { brokerLineOf, detectBinaryVersion } from '../mosquitto/broker-version.ts';
import { renderedFilePaths } from './check-broker-files.ts';
import { pass, skip, warn, type CheckResult } from './check-result.ts';

/** Warning codes that depend on the broker's version. */
const VERSION_CODES = new Set(['hash_unreadable_by_2_0', 'pattern_substitution_2_1', 'pattern_client_id_2_1']);

const readOrNull = (path: string): string | null => {
  try { return readFileSync(path, 'utf8'); } catch { return null; }
};

export const versionWarnings = (texts: { passwordFile: string | null; aclFile: string | null }, serviceAccount: string, line: BrokerLine): ImportWarning[] => [
  ...(texts.passwordFile === null ? [] : parsePasswordFile(texts.passwordFile, { serviceAccount, brokerLine: line }).warnings),
  ...(texts.aclFile === null ? [] : parseAclFile(texts.aclFile, { serviceAccount, brokerLine: line }).warnings),
].filter((w) => VERSION_CODES.has(w.code));

export const checkBrokerVersions = (config: Config, opts: { version?: string | null } = {}): CheckResult => {
  const paths = renderedFilePaths(config);
  const texts = { passwordFile: readOrNull(paths.passwordFile), aclFile: readOrNull(paths.aclFile) };
  if (texts.passwordFile === null && texts.aclFile === null) return skip('versions', 'no broker files yet');
  // Supervised: the binary is the broker. External: a local binary is only a hint, so judge for both lines.
  const version = opts.version !== undefined ? opts.version : config.mosquitto.mode === 'supervised' ? detectBinaryVersion(config.mosquitto.binary) : null;
  const line = brokerLineOf(version);
  const found = versionWarnings(texts, config.mqtt.service_account.username, line);
  const judged = line === null ? 'an unknown broker version (judged for both 2.0 and 2.1)' : `Mosquitto ${line}`;
  if (found.length === 0) return pass('versions', `the broker files hold nothing ${judged} reads differently`);
  const shown = found.slice(0, 5).map((w) => `${w.file}:${w.line ?? '-'} ${w.message}`).join('; ');
  return warn('versions', `${found.length} line${found.length === 1 ? '' : 's'} ${judged} treats differently: ${shown}${found.length > 5 ? '; …' : ''}`,
    'a user whose hash the broker cannot read cannot log in: set a new password (mcm users passwd NAME); see README "Adopting an existing Mosquitto"');
};
