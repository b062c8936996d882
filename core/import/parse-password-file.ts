/**
 * Reads an existing Mosquitto password_file exactly as the broker does (reference §1.1) and says
 * what MCM can keep: every `username:hash` entry, byte for byte. A line the broker would drop or
 * misread, or one MCM cannot represent, is a problem (the whole import is refused, with its line
 * number); what MCM drops without changing any decision (comments, blank lines) is a warning.
 */
import { usernameViolation } from '../names.ts';
import { checkHashField, readableBy20 } from './hash-forms.ts';
import type { BrokerLine, ImportProblem, ImportWarning } from './import-types.ts';
import { BOM, splitLines, trimC } from './lines.ts';

export type PasswordEntry = Readonly<{ line: number; username: string; hash: string }>;

export type ParsedPasswordFile = {
  /** In file order; the service account's own line is not among them. */
  entries: PasswordEntry[];
  problems: ImportProblem[];
  warnings: ImportWarning[];
};

export type ParseOptions = Readonly<{ serviceAccount: string; brokerLine: BrokerLine }>;

export const parsePasswordFile = (text: string, opts: ParseOptions): ParsedPasswordFile => {
  const out: ParsedPasswordFile = { entries: [], problems: [], warnings: [] };
  const problem = (line: number, message: string): void => { out.problems.push({ file: 'password_file', line, message }); };
  const warn = (line: number | undefined, code: string, message: string): void => {
    out.warnings.push(line === undefined ? { file: 'password_file', code, message } : { file: 'password_file', line, code, message });
  };
  const seen = new Map<string, number>();
  let blank = 0;
  let firstBlank = 0;

  splitLines(text).forEach((raw, i) => {
    const n = i + 1;
    if (n === 1 && raw.startsWith(BOM)) {
      return problem(n, 'byte order mark: it becomes part of the first username, so that user can never log in [ref §1.1 item 9]; save the file without a BOM');
    }
    // Column 1 only: "  # x:…" defines a user named "# x" (reference §1.1 item 1).
    if (raw.startsWith('#')) return warn(n, 'comment_dropped', 'comment not kept: MCM writes no comments (mosquitto_passwd wipes a file that has them, ref §1.4)');
    const colon = raw.indexOf(':');
    if (colon < 0) {
      if (trimC(raw) === '') {
        if (blank++ === 0) firstBlank = n;
        return;
      }
      return problem(n, 'text without ":": the broker silently skips this line; remove it or add the user properly');
    }
    const username = trimC(raw.slice(0, colon));
    if (username === '') return problem(n, 'the line has no username before ":": the broker drops it ("Invalid line")');
    // The password is the text up to the next ':' (reference §1.1 item 4); CR of CRLF is trimmed.
    const after = raw.slice(colon + 1);
    const second = after.indexOf(':');
    const hash = trimC(second < 0 ? after : after.slice(0, second));
    const v = usernameViolation(username);
    if (v) return problem(n, `username ${JSON.stringify(username)} cannot be managed by MCM: ${v.message}`);
    const check = checkHashField(hash);
    if (!check.ok) return problem(n, `user ${JSON.stringify(username)}: ${check.problem}`);
    const first = seen.get(username);
    if (first !== undefined) {
      return problem(n, `duplicate username ${JSON.stringify(username)} (also on line ${first}): 2.0 keeps one of them by chance, 2.1 refuses to start [ref §1.1 item 7, §8]; keep one line`);
    }
    seen.set(username, n);
    if (second >= 0) warn(n, 'text_after_hash_dropped', 'text after the second ":" is ignored by the broker and not kept');
    if (raw.slice(0, colon) !== username) warn(n, 'username_trimmed', `whitespace around the username is trimmed by the broker: the user is ${JSON.stringify(username)}`);
    if (opts.brokerLine !== '2.1' && !readableBy20(check.field)) {
      warn(n, 'hash_unreadable_by_2_0', `user ${JSON.stringify(username)}: a 2.0 broker drops this line (${check.field.form === 'argon2id' ? 'argon2id' : `${check.field.saltBytes}-byte salt`}): the user cannot log in today either [ref §8]`);
    }
    if (username === opts.serviceAccount) {
      return warn(n, 'service_account_skipped', `${JSON.stringify(username)} is MCM's own service account: MCM renders its line itself`);
    }
    // The marker line MCM adds to every password file it renders (adapters/apply/broker-files.ts).
    if (/^mcm-pwfile-[0-9a-f]{16}$/.test(username)) {
      return warn(n, 'service_account_skipped', `${JSON.stringify(username)} is the marker MCM's probe logs in as: MCM renders its line itself`);
    }
    out.entries.push({ line: n, username, hash });
  });
  if (blank > 0) warn(undefined, 'blank_lines_dropped', `${blank} blank line${blank === 1 ? '' : 's'} (first on line ${firstBlank}) not kept: the broker skips them`);
  return out;
};
