/**
 * Checks a password_file against exactly what Mosquitto 2.0.11 would drop or misread
 * (reference §1.1–§1.3), plus the lines MCM never writes (comments, blank lines: reference §1.4).
 * The runner calls this before anything reaches disk; a render with problems is never written.
 */

import { checkHashField, paddedBase64Length } from '../core/import/hash-forms.ts';

/** One finding, with its 1-based line number. */
export type Problem = Readonly<{ line: number; message: string }>;

const MAX_FIELD_BYTES = 65535; // broker and mosquitto_passwd limit (reference §1.1 item 5, §1.3)

/** UTF-8 byte length; null when the string holds a lone surrogate (not valid UTF-8). */
export const utf8Length = (s: string): number | null => {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (!(d >= 0xdc00 && d <= 0xdfff)) return null;
      n += 4;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) return null;
    else n += 3;
  }
  return n;
};

/** C `iscntrl` on the C locale, widened to Unicode C0/C1 controls. */
const hasControl = (s: string): boolean => /[\u0000-\u001f\u007f-\u009f]/.test(s);

/** `isspace` in the C locale: space, \t, \n, \v, \f, \r. */
const isCSpace = (ch: string | undefined): boolean => ch !== undefined && ' \t\n\v\f\r'.includes(ch);

/**
 * Decoded length of STRICT standard padded base64, or null. OpenSSL's BIO decoder (what the
 * broker uses) rejected unpadded and URL-safe input (reference §1.2), so both are null here.
 */
export const strictBase64Length = paddedBase64Length;

/** Problems with a username as the broker would read it (reference §1.1 items 1, 3, 5, 6; §1.3). */
const usernameProblems = (raw: string): string[] => {
  const out: string[] = [];
  if (raw.trim() === '') return ['empty username: the broker drops the line ("Invalid line")'];
  if (isCSpace(raw[0]) || isCSpace(raw[raw.length - 1])) {
    out.push('username has leading or trailing whitespace: the broker trims it, so the user could never log in');
  }
  if (hasControl(raw)) out.push('username contains a control character');
  const bytes = utf8Length(raw);
  if (bytes === null) out.push('username is not valid UTF-8');
  else if (bytes > MAX_FIELD_BYTES) out.push(`username is longer than ${MAX_FIELD_BYTES} bytes: the broker skips it`);
  return out;
};

/**
 * Problems with the hash field (reference §1.1 decoding table, §1.2, §8): every form an import
 * keeps byte for byte is accepted (core/import/hash-forms.ts) — `$7$` with any salt length and
 * argon2id lines are dropped by a 2.0 broker, which only locks out that user, as it already did
 * before the import. What no broker reads (plain text, a field that does not decode) is refused.
 */
const hashProblems = (field: string): string[] => {
  if (field !== field.trim()) return ['password hash has surrounding whitespace'];
  const check = checkHashField(field);
  return check.ok ? [] : [check.problem];
};

export const checkPasswordFile = (text: string): Problem[] => {
  const problems: Problem[] = [];
  const add = (line: number, message: string): void => { problems.push({ line, message: `line ${line}: ${message}` }); };
  if (text.startsWith('\uFEFF')) add(1, 'byte order mark: it becomes part of the first username (reference §1.1 item 9)');
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const lines = body.split('\n');
  if (lines[lines.length - 1] === '') lines.pop(); // the final newline ends the last line
  const seen = new Map<string, number>();
  lines.forEach((raw, i) => {
    const n = i + 1;
    let line = raw;
    if (line.includes('\r')) {
      add(n, 'carriage return: MCM writes LF line endings only');
      line = line.replaceAll('\r', '');
    }
    if (line.startsWith('#')) return add(n, 'comment line: mosquitto_passwd wipes other users of a file with comments (reference §1.4)');
    if (line.trim() === '') return add(n, 'blank line: mosquitto_passwd wipes other users of a file with blank lines (reference §1.4)');
    const colon = line.indexOf(':');
    if (colon < 0) return add(n, 'no ":" separator: the broker silently skips the line');
    const rawName = line.slice(0, colon);
    const after = line.slice(colon + 1);
    for (const m of usernameProblems(rawName)) add(n, m);
    const second = after.indexOf(':');
    if (second >= 0) add(n, 'text after a second ":" is ignored by the broker');
    for (const m of hashProblems(second >= 0 ? after.slice(0, second) : after)) add(n, m);
    const name = rawName.trim();
    if (name !== '') {
      const first = seen.get(name);
      if (first !== undefined) add(n, `duplicate username "${name}" (first on line ${first}): which entry wins is not guaranteed`);
      else seen.set(name, n);
    }
  });
  return problems;
};
