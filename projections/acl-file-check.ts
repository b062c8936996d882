/**
 * Parses an acl_file with Mosquitto 2.0.11's exact grammar (`aclfile__parse` in
 * src/security_default.c; reference §2.1) and reports every line the broker would reject or
 * misread. One fatal line makes the broker refuse the WHOLE file: exit 3 at start, ACL
 * enforcement OFF on reload (reference §3.4). The runner never writes a render with problems.
 *
 * Besides the broker's fatal errors, lines MCM never writes are reported too (TABs, NULs, CRs,
 * stray whitespace): each one means a value would reach the broker differently than intended.
 */
import type { Access } from '../core/acl-types.ts';
import { isReservedTopic, topicFilterProblem } from '../core/topic-filter.ts';
import type { Problem } from './password-file-check.ts';

export type { Problem };

export type ParsedAclEntry = Readonly<{ access: Access; topic: string; line: number }>;

export type ParsedAcl = {
  problems: Problem[];
  /** `topic` lines before the first `user` line: anonymous clients only (reference §2.2). */
  anonymous: ParsedAclEntry[];
  /** `topic` lines per `user` block, in file order; repeated blocks are merged as the broker does. */
  users: Map<string, ParsedAclEntry[]>;
  /** `pattern` lines, wherever they appear (reference §2.2). */
  patterns: ParsedAclEntry[];
};

const ACCESS_WORDS: ReadonlySet<string> = new Set<Access>(['read', 'write', 'readwrite', 'deny']);

/** C `isspace` in the C locale. */
const isCSpace = (ch: string | undefined): boolean => ch !== undefined && ' \t\n\v\f\r'.includes(ch);

const trimEndC = (s: string): string => {
  let end = s.length;
  while (end > 0 && isCSpace(s[end - 1])) end--;
  return s.slice(0, end);
};

/** `misc__trimblanks`: leading and trailing isspace. */
const trimBlanks = (s: string): string => {
  let start = 0;
  while (start < s.length && isCSpace(s[start])) start++;
  return trimEndC(s.slice(start));
};

/**
 * `strtok_r(str, " ", &save)` from position `pos`: skips leading spaces, returns the token up to
 * the next space and the position just past that space (where the broker's save pointer points).
 */
const spaceToken = (s: string, pos: number): { token: string; next: number } | null => {
  let i = pos;
  while (i < s.length && s[i] === ' ') i++;
  if (i >= s.length) return null;
  const end = s.indexOf(' ', i);
  if (end < 0) return { token: s.slice(i), next: s.length };
  return { token: s.slice(i, end), next: end + 1 };
};

/** UTF-8 length of what the broker reads; a lone surrogate (U+FFFD after decoding) is 3 bytes. */
const utf8Bytes = (s: string): number => {
  let n = 0;
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    n += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
  }
  return n;
};

/**
 * What `mosquitto_sub_topic_check` refuses in an ACL topic, which is fatal for the whole file:
 * '+' not a whole level, '#' not the whole last level, more than 65535 bytes or more than 200 '/'
 * (reference §2.1; each checked against 2.0.11). Control characters, noncharacters and invalid
 * UTF-8 are NOT refused here: the broker loads such lines (checked against 2.0.11).
 */
export const brokerTopicProblem = (topic: string): string | null => {
  if (utf8Bytes(topic) > 65535) return 'longer than 65535 bytes';
  let separators = 0;
  for (let i = 0; i < topic.length; i++) {
    const ch = topic[i];
    if (ch === '/') separators++;
    if (ch !== '+' && ch !== '#') continue;
    const before = i === 0 ? '/' : topic[i - 1];
    const after = i === topic.length - 1 ? null : topic[i + 1];
    if (ch === '+' && (before !== '/' || (after !== null && after !== '/'))) return "'+' must occupy a whole level";
    if (ch === '#' && (before !== '/' || after !== null)) return "'#' must be the whole last level";
  }
  if (separators > 200) return "more than 200 '/' separators";
  return null;
};

/** The service account's own `$mcm` lines (core/acl-model.ts serviceAccountSources). */
const SERVICE_ACCOUNT_MCM_LINE = /^(read \$mcm\/#|write \$mcm\/probe\/[0-9]+)$/;

/** `strtok_r(NULL, "", &save)`: the rest of the line, or null when nothing is left. */
const restOfLine = (s: string, pos: number): string | null => (pos < s.length ? s.slice(pos) : null);

export const parseAclFile = (text: string): ParsedAcl => {
  const out: ParsedAcl = { problems: [], anonymous: [], users: new Map(), patterns: [] };
  const add = (line: number, message: string): void => { out.problems.push({ line, message: `line ${line}: ${message}` }); };
  const fatal = (line: number, message: string): void => add(line, `${message} (fatal: the broker rejects the whole file)`);
  let user: string | null = null;

  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop(); // the final newline ends the last line
  lines.forEach((raw, i) => {
    const n = i + 1;
    if (n === 1 && raw.startsWith('\uFEFF')) {
      fatal(n, 'byte order mark: it makes the first keyword invalid ("Invalid line in acl_file") [ref §2.1]');
      return;
    }
    // fgets + strlen: a NUL ends the line early for the broker.
    if (raw.includes('\u0000')) add(n, 'NUL character: the broker ignores the rest of the line');
    if (raw.includes('\t')) add(n, 'TAB character: the broker splits on spaces only [ref §2.1]');
    if (raw.endsWith('\r')) add(n, 'carriage return: MCM writes LF line endings only');
    const line = trimEndC(raw);
    if (line !== raw && line !== '' && !raw.endsWith('\r')) add(n, 'trailing whitespace: the broker strips it [ref §2.1]');
    if (line.startsWith('#')) return; // comment: column 1 only
    const first = spaceToken(line, 0);
    if (first === null) return; // empty or whitespace-only line
    if (line.startsWith(' ')) add(n, 'leading whitespace: MCM writes keywords in column 1 (and "  #" is not a comment) [ref §2.1]');
    const keyword = first.token;

    if (keyword === 'user') {
      const rest = restOfLine(line, first.next);
      if (rest === null) return fatal(n, 'missing username ("Missing username in acl_file") [ref §2.1]');
      const name = trimBlanks(rest);
      if (name !== rest) add(n, 'extra whitespace around the username: the broker trims it');
      if (/[\u0000-\u001f\u007f-\u009f]/.test(name)) add(n, 'username contains a control character [ref §2.5]');
      user = name;
      if (!out.users.has(name)) out.users.set(name, []);
      return;
    }
    if (keyword !== 'topic' && keyword !== 'pattern') {
      return fatal(n, `invalid keyword ${JSON.stringify(keyword)} ("Invalid line in acl_file"): keywords are topic, pattern and user, case-sensitive [ref §2.1]`);
    }
    const second = spaceToken(line, first.next);
    if (second === null) return fatal(n, `"${keyword}" without a topic ("Empty topic in acl_file") [ref §2.1]`);
    if (second.next > 0 && line.slice(first.next, second.next).startsWith(' ')) {
      add(n, 'more than one space after the keyword: MCM writes single spaces');
    }
    const rest = restOfLine(line, second.next);
    let access: Access = 'readwrite';
    let topic = second.token;
    if (rest !== null) {
      if (!ACCESS_WORDS.has(second.token)) {
        return fatal(n, `invalid access ${JSON.stringify(second.token)} ("Invalid topic access type"): use read, write, readwrite or deny [ref §2.1]`);
      }
      access = second.token as Access;
      topic = trimBlanks(rest);
      if (topic !== rest) add(n, 'extra whitespace before the topic: the broker trims it');
    } else {
      // Two tokens: the second is the topic and access is readwrite ("topic read" = topic "read").
      add(n, 'no access word: the broker reads the second word as the topic with readwrite access [ref §2.1]');
    }
    const fatalTopic = brokerTopicProblem(topic);
    if (fatalTopic !== null) return fatal(n, `invalid ACL topic ${JSON.stringify(topic)} ("Invalid ACL topic"): ${fatalTopic} [ref §2.1]`);
    // The broker loads these, but they are not valid MQTT topic text, so no client's topic can
    // ever match them: MCM refuses them at the API and never writes them.
    const unusable = topicFilterProblem(topic);
    if (unusable !== null) add(n, `topic ${JSON.stringify(topic)} ${unusable}`);
    // `$mcm/…` is MCM's enforcement proof (DESIGN §6): only the service account's own two lines may
    // name it. `pattern write $mcm/#` would make every probe pass before a reload lands, or every
    // apply fail open; the core refuses such rules, and the render must never carry one.
    if (isReservedTopic(topic) && (keyword === 'pattern' || !SERVICE_ACCOUNT_MCM_LINE.test(`${access} ${topic}`))) {
      add(n, `topic ${JSON.stringify(topic)} is under $mcm, reserved for MCM's enforcement probes`);
    }
    const entry: ParsedAclEntry = { access, topic, line: n };
    if (keyword === 'pattern') out.patterns.push(entry);
    else if (user === null) out.anonymous.push(entry);
    else out.users.get(user)?.push(entry);
  });
  return out;
};

/** The problems of `parseAclFile`: empty means the broker reads the file exactly as written. */
export const checkAclFile = (text: string): Problem[] => parseAclFile(text).problems;
