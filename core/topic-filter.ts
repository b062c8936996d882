/**
 * MQTT topic filter and topic name validation, as Mosquitto 2.0.11 applies it (reference §2.1).
 *
 * A filter is what goes into an ACL line (`topic read a/+/#`). The broker validates it with
 * `mosquitto_sub_topic_check` and rejects the WHOLE ACL file on one bad topic (fatal at start,
 * fail-open on reload, reference §3.4), so MCM refuses bad filters at the API. On top of the
 * broker's check come the constraints of the line-based ACL file itself.
 *
 * A topic name is a concrete topic (publish tool, explain): `mosquitto_pub_topic_check` rules.
 */
import { DomainError, ERROR_CODES } from './errors.ts';

/** Mosquitto's TOPIC_HIERARCHY_LIMIT: more '/' than this is refused (lib/util_topic.c, WITH_BROKER). */
export const MAX_TOPIC_SEPARATORS = 200;
/** MQTT strings carry a 16-bit byte length (MQTT-1.5.3); mosquitto checks `len > 65535`. */
export const MAX_TOPIC_BYTES = 65535;

const RULES = {
  notString: 'must be a string',
  empty: 'must not be empty (MQTT-4.7.3-1)',
  surrogate: 'must be valid UTF-8: it contains a lone UTF-16 surrogate (MQTT-1.5.3-1)',
  nul: 'must not contain U+0000 (MQTT-1.5.3-2)',
  control:
    'must not contain control characters (U+0001–U+001F, U+007F–U+009F, incl. TAB, CR, LF): ' +
    'Mosquitto refuses them in topics and the ACL file is line and space based [ref §2.1]',
  nonchar: 'must not contain Unicode noncharacters (U+FDD0–U+FDEF, U+xFFFE, U+xFFFF): Mosquitto refuses them as malformed UTF-8',
  whitespace: 'must not start or end with a space: the broker trims the rest of an ACL line [ref §2.1]',
  bytes: `must be at most ${MAX_TOPIC_BYTES} bytes in UTF-8 (MQTT-1.5.3)`,
  levels: `must have at most ${MAX_TOPIC_SEPARATORS} '/' separators (Mosquitto topic hierarchy limit) [ref §2.1]`,
  plus: "'+' must occupy a whole level (MQTT-4.7.1-3)",
  hash: "'#' must be the last level on its own (MQTT-4.7.1-2)",
  wildcardInName: "a topic name must not contain the wildcards '+' or '#' (MQTT-4.7.1-1)",
} as const;

/**
 * Characters, UTF-8 length and separators shared by filters and names. Mirrors
 * `mosquitto_validate_utf8` (which rejects C0/DEL/C1 controls and noncharacters, checked against
 * libmosquitto 2.0.11) plus the 65535-byte and 200-separator limits of the topic checks.
 */
const textProblem = (s: string): string | null => {
  let bytes = 0;
  let separators = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let cp = c;
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (!(d >= 0xdc00 && d <= 0xdfff)) return RULES.surrogate;
      cp = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) {
      return RULES.surrogate;
    }
    if (cp === 0) return RULES.nul;
    if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) return RULES.control;
    if ((cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) === 0xfffe) return RULES.nonchar;
    if (cp === 0x2f) separators++;
    bytes += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
  }
  if (bytes > MAX_TOPIC_BYTES) return RULES.bytes;
  if (separators > MAX_TOPIC_SEPARATORS) return RULES.levels;
  return null;
};

/** Null when `filter` is a valid ACL topic filter, else the rule it breaks. */
export const topicFilterProblem = (filter: unknown): string | null => {
  if (typeof filter !== 'string') return RULES.notString;
  if (filter.length === 0) return RULES.empty;
  const text = textProblem(filter);
  if (text) return text;
  if (filter.startsWith(' ') || filter.endsWith(' ')) return RULES.whitespace;
  // Same scan as mosquitto_sub_topic_check: a wildcard must have '/' (or the start) before it;
  // '+' must have '/' (or the end) after it; '#' must be the very last character.
  for (let i = 0; i < filter.length; i++) {
    const c = filter[i];
    if (c !== '+' && c !== '#') continue;
    const before = i === 0 ? '/' : filter[i - 1];
    const after = i === filter.length - 1 ? null : filter[i + 1];
    if (c === '+' && (before !== '/' || (after !== null && after !== '/'))) return RULES.plus;
    if (c === '#' && (before !== '/' || after !== null)) return RULES.hash;
  }
  return null;
};

/** A filter whose first level is `$mcm`: MCM's own tree (the enforcement probe, DESIGN §6), never an ACL rule's. */
export const isReservedTopic = (filter: string): boolean => filter === '$mcm' || filter.startsWith('$mcm/');

/** Null when `topic` is a valid concrete topic (no wildcards), else the rule it breaks. */
export const topicNameProblem = (topic: unknown): string | null => {
  if (typeof topic !== 'string') return RULES.notString;
  if (topic.length === 0) return RULES.empty;
  const text = textProblem(topic);
  if (text) return text;
  if (topic.includes('+') || topic.includes('#')) return RULES.wildcardInName;
  return null;
};

/** Error details keep at most this many characters of the offending value. */
const MAX_DETAIL_CHARS = 256;
const shown = (value: unknown): unknown =>
  typeof value === 'string' && value.length > MAX_DETAIL_CHARS ? `${value.slice(0, MAX_DETAIL_CHARS)}…` : value;

const describe = (value: unknown): string => {
  const v = shown(value);
  return typeof v === 'string' ? JSON.stringify(v) : typeof v;
};

/** Returns the filter, or throws MCM_ERR_TOPIC_FILTER_INVALID with details [{field, value, rule}]. */
export const assertTopicFilter = (filter: unknown, field = 'topic'): string => {
  const rule = topicFilterProblem(filter);
  if (rule === null) return filter as string;
  throw new DomainError(ERROR_CODES.TOPIC_FILTER_INVALID, `invalid topic filter ${describe(filter)} in ${field}: ${rule}`, [
    { field, value: shown(filter), rule },
  ]);
};

/** Returns the topic, or throws MCM_ERR_TOPIC_NAME_INVALID with details [{field, value, rule}]. */
export const assertTopicName = (topic: unknown, field = 'topic'): string => {
  const rule = topicNameProblem(topic);
  if (rule === null) return topic as string;
  throw new DomainError(ERROR_CODES.TOPIC_NAME_INVALID, `invalid topic ${describe(topic)} in ${field}: ${rule}`, [
    { field, value: shown(topic), rule },
  ]);
};
