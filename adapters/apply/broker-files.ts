/**
 * The set of files MCM renders for the broker and how each is rendered, validated and compared
 * (DESIGN §6). `password_file` and `acl_file` in every mode; `mosquitto_conf` in supervised mode
 * only (it carries allow_anonymous, reference §3.2: reloaded on SIGHUP).
 */
import { createHash } from 'node:crypto';
import type { BrokerConfig } from '../../core/state.ts';
import { sameBesidesGeneration, stripGenerationLine } from '../../projections/acl-file.ts';
import { checkAclFile } from '../../projections/acl-file-check.ts';
import { renderMosquittoConf, type MosquittoConfOptions } from '../../projections/mosquitto-conf.ts';
import { renderConfFragment } from '../../projections/mosquitto-conf-fragment.ts';
import { checkPasswordFile, type Problem } from '../../projections/password-file-check.ts';
import { createIncrementalRenderer, type Block } from '../../projections/incremental-files.ts';
import { checkBlocks } from '../../projections/checked-blocks.ts';
import { sharedText } from './shared-text.ts';
import type { FileOwnership } from '../mosquitto/permissions.ts';
import { emptyBrokerConfig, type BrokerConfigModel } from '../../core/broker-config/model.ts';
import { certificatesUsed, certPath, keyPath, type ConfSecrets } from '../../projections/mosquitto-conf-sections.ts';

export const FILE_NAMES = ['password_file', 'acl_file', 'mosquitto_conf'] as const;
export type FileName = (typeof FILE_NAMES)[number];

export type FileSpec = Readonly<{ name: FileName; path: string; ownership: () => FileOwnership }>;

export type RenderedFiles = Map<FileName, string>;

export type BrokerFilesOptions = Readonly<{
  passwordFile: FileSpec;
  aclFile: FileSpec;
  /** Supervised mode only: everything in mosquitto.conf except allow_anonymous, which comes from state. */
  conf?: Readonly<{
    spec: FileSpec;
    /** `fragment`: external mode, the include_dir file with only the operator's configuration (projections/mosquitto-conf-fragment.ts). */
    form?: 'supervised' | 'fragment';
    options: Omit<MosquittoConfOptions, 'allowAnonymous' | 'broker' | 'redact'>;
    /** Where the broker reads TLS files and how bridge passwords are found (issue 13). */
    secrets?: ConfSecrets;
    /** PEMs by certificate name (adapters/certs/cert-store.ts), written into `secrets.tlsDir` for the broker. */
    certs?: { read(name: string): { cert: string; key: string | null } | null };
  }> | null;
  serviceAccount: Readonly<{ username: string; passwordHash: string }>;
}>;

export type BrokerFiles = {
  specs: readonly FileSpec[];
  byPath(path: string): FileSpec | undefined;
  render(state: BrokerConfig, generation: number): RenderedFiles;
  /**
   * Supervised mode: mosquitto.conf for the current configuration with a given allow_anonymous.
   * Its listeners must be the ones the running broker started with (a reload cannot change them,
   * reference §3.2), so a restore renders it afresh rather than reusing an older copy.
   */
  renderConf(allowAnonymous: boolean, config: BrokerConfigModel, redact?: boolean): string | null;
  /**
   * The TLS files a configuration makes the broker read (certificate PEMs, private keys), with
   * their paths in the broker's TLS directory; a certificate whose PEM is gone is left out.
   */
  tlsFiles(config: BrokerConfigModel): { path: string; content: string; secret: boolean }[];
  /** The broker's TLS directory, or null when MCM writes no mosquitto.conf. */
  tlsDir: string | null;
  /** Every problem the broker's grammar would have with the render (reference §1.1, §2.1). */
  validate(files: RenderedFiles): string[];
  /**
   * Renders and checks the blocks of up to `budget` users not rendered yet (./warm-up.ts);
   * true once every user has its blocks. The next render and validate reuse them.
   */
  warm(state: BrokerConfig, budget: number): boolean;
};

const digest = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

/**
 * The last few large texts hashed: one apply hashes the same render for the write intent, the
 * checkpoint and its stored row, and the unchanged password file again on every ACL change
 * (issue 14). Equal texts compare by bytes, far cheaper than hashing them.
 */
const recent: { text: string; hash: string }[] = [];
const MEMO_MIN = 4096;
const MEMO_SIZE = 4;

export const sha256 = (text: string): string => {
  if (text.length < MEMO_MIN) return digest(text);
  const hit = recent.find((r) => r.text === text);
  if (hit) return hit.hash;
  const hash = digest(text);
  recent.push({ text, hash });
  if (recent.length > MEMO_SIZE) recent.shift();
  return hash;
};

/** What decides whether a file must be written: the text without what only the generation changes. */
export const contentKey = (name: FileName, text: string): string => (name === 'acl_file' ? stripGenerationLine(text) : text);

/** contentKey(name, a) === contentKey(name, b), without copying megabytes to find out. */
export const sameContent = (name: FileName, a: string | null | undefined, b: string | null | undefined): boolean =>
  a !== null && a !== undefined && b !== null && b !== undefined && (name === 'acl_file' ? sameBesidesGeneration(a, b) : a === b);

/** The generation named in an ACL file's header (`# generation N`), or null. */
export const aclGeneration = (text: string | null | undefined): number | null => {
  const m = /^# generation (\d+)$/m.exec(text ?? '');
  return m ? Number(m[1]) : null;
};

/**
 * The password file's marker user (issue 12): one extra line `mcm-pwfile-<16 hex>:<the service
 * account's hash>`, named after the rest of the file. It changes exactly when the password file
 * does (an ACL-only change leaves the password file alone), and the probe logs in as it with the
 * service account's password: accepted proves the broker runs this password file, as the probe
 * topic proves the ACL file. Together they prove the pair, so a mixed pair (an outside SIGHUP
 * between the two renames, external mode) is never confirmed.
 */
import { PASSWORD_MARKER_PREFIX } from '../../core/names.ts';

export { PASSWORD_MARKER_PREFIX };

/** The marker username in a rendered password file, or null. */
export const passwordMarker = (text: string | null | undefined): string | null => {
  const m = /^(mcm-pwfile-[0-9a-f]{16}):/m.exec(text ?? '');
  return m ? m[1] ?? null : null;
};

/** The password file without its marker line: what projections/password-file.ts rendered. */
export const stripPasswordMarker = (text: string): string => text.replace(/^mcm-pwfile-[0-9a-f]{16}:.*\n/m, '');

/** allow_anonymous from a rendered mosquitto.conf, or null when absent. */
export const confAllowsAnonymous = (text: string | null | undefined): boolean | null => {
  const m = /^allow_anonymous (true|false)$/m.exec(text ?? '');
  return m ? m[1] === 'true' : null;
};

export const createBrokerFiles = (opts: BrokerFilesOptions): BrokerFiles => {
  const specs: FileSpec[] = [opts.passwordFile, opts.aclFile, ...(opts.conf ? [opts.conf.spec] : [])];
  // The last text each checker passed: an ACL-only change need not re-check the password file.
  const passed = new Map<string, string>();
  type Checker = (t: string) => readonly Problem[];
  /**
   * A text the last render produced is checked block by block (projections/checked-blocks.ts:
   * only blocks without a verdict go through the checker); any other text whole.
   */
  const check = (name: string, text: string | undefined, checker: Checker, blocks: readonly Block[] | null, separator: '' | '\n', uniqueKeys = false): string[] => {
    if (text === undefined || passed.get(name) === text) return [];
    const found = blocks ? checkBlocks({ text, blocks, separator, checker, uniqueKeys }) : checker(text);
    const problems = found.map((p) => `${name} ${p.message}`);
    if (problems.length === 0) passed.set(name, text);
    return problems;
  };
  const renderer = createIncrementalRenderer({ serviceAccount: opts.serviceAccount });
  /** The last render's blocks, so validate checks only the blocks without a verdict (issue 14). */
  let last: { password: string; passwordBlocks: readonly Block[]; acl: string; aclBlocks: readonly Block[] } | null = null;
  let marked: { body: string; text: string; block: Block } | null = null;
  const withMarker = (body: string): { text: string; block: Block } => {
    if (marked?.body !== body) {
      const line = `${PASSWORD_MARKER_PREFIX}${sha256(body).slice(0, 16)}:${opts.serviceAccount.passwordHash}\n`;
      marked = { body, text: sharedText('password_file', `${body}${line}`), block: { text: line, ok: false, keys: [line.slice(0, line.indexOf(':'))] } };
    }
    return marked;
  };
  const renderConf = (allowAnonymous: boolean, config: BrokerConfigModel, redact = false): string | null => {
    if (!opts.conf) return null;
    const secrets = opts.conf.secrets ?? { tlsDir: '/nonexistent', bridgePassword: () => null };
    if (opts.conf.form === 'fragment') return renderConfFragment(config, secrets, redact);
    return renderMosquittoConf({ ...opts.conf.options, allowAnonymous, broker: { config, secrets }, redact });
  };
  return {
    specs,
    byPath: (path) => specs.find((s) => s.path === path),
    render(state, generation) {
      const r = renderer.render(state, generation);
      const pw = withMarker(r.password);
      const acl = sharedText('acl_file', r.acl);
      last = { password: pw.text, passwordBlocks: [...r.passwordBlocks, pw.block], acl, aclBlocks: r.aclBlocks };
      const files: RenderedFiles = new Map();
      files.set('password_file', pw.text);
      files.set('acl_file', acl);
      const conf = renderConf(state.settings.allowAnonymous, state.brokerConfig ?? emptyBrokerConfig());
      if (conf !== null) files.set('mosquitto_conf', conf);
      return files;
    },
    renderConf,
    tlsDir: opts.conf?.secrets?.tlsDir ?? null,
    tlsFiles(config) {
      const secrets = opts.conf?.secrets;
      const certs = opts.conf?.certs;
      if (!secrets || !certs) return [];
      return certificatesUsed(config).flatMap(({ name, key }) => {
        const pem = certs.read(name);
        if (!pem) return [];
        const out: { path: string; content: string; secret: boolean }[] = [{ path: certPath(secrets, name), content: pem.cert, secret: false }];
        if (key && pem.key !== null) out.push({ path: keyPath(secrets, name), content: pem.key, secret: true });
        return out;
      });
    },
    warm(state, budget) {
      const made = renderer.warm(state, budget);
      if (made === null) return true;
      // The verdicts too: what the quick check passes is marked ok, anything else is left for validate.
      if (made.password.length) checkBlocks({ text: made.password.map((b) => b.text).join(''), blocks: made.password, separator: '', checker: checkPasswordFile });
      if (made.acl.length) checkBlocks({ text: made.acl.map((b) => b.text).join('\n'), blocks: made.acl, separator: '\n', checker: checkAclFile });
      return false;
    },
    validate(files) {
      const pw = files.get('password_file');
      const acl = files.get('acl_file');
      const r = last;
      return [
        ...check('password_file', pw, checkPasswordFile, r && pw === r.password ? r.passwordBlocks : null, '', true),
        ...check('acl_file', acl, checkAclFile, r && acl === r.acl ? r.aclBlocks : null, '\n'),
      ];
    },
  };
};
