/**
 * Topic matching exactly as Mosquitto 2.0.11 does it, and filter coverage for dropping subsumed
 * ACL lines (reference §2.3, §10).
 */

/** Character at i, or '' past the end: stands in for C's NUL terminator in the port below. */
const at = (s: string, i: number): string => (i < s.length ? (s[i] as string) : '');

/**
 * Port of `mosquitto_topic_matches_sub` (lib/util_topic.c, 2.0.11), which the broker's ACL check
 * calls with the ACL topic as `sub`. Where the C code returns MOSQ_ERR_INVAL the result is false,
 * as the ACL check reads it. Checked against libmosquitto 2.0.11 on random valid and invalid
 * inputs (tests/core/topic-match.test.ts). Notable behaviour:
 * - a filter and a topic must both start with '$' or both not ('#' never matches `$SYS/x`);
 * - 'a/#' matches 'a'; 'a/+/#' matches 'a/b'; '+' matches an empty level;
 * - an empty filter or topic, or a topic containing '+' or '#', never matches.
 */
export const topicMatches = (filter: string, topic: string): boolean => {
  const sub = filter;
  if (sub.length === 0 || topic.length === 0) return false;
  if ((sub[0] === '$') !== (topic[0] === '$')) return false;
  let s = 0;
  let t = 0;
  while (s < sub.length) {
    const tc = at(topic, t);
    if (tc === '+' || tc === '#') return false;
    const sc = at(sub, s);
    if (sc !== tc || tc === '') {
      if (sc === '+') {
        // "+foo", "a/+foo", "foo+" and "foo+/a" are invalid.
        if (s > 0 && sub[s - 1] !== '/') return false;
        if (at(sub, s + 1) !== '' && at(sub, s + 1) !== '/') return false;
        s++;
        while (t < topic.length && topic[t] !== '/') {
          if (topic[t] === '+' || topic[t] === '#') return false;
          t++;
        }
        if (t >= topic.length && s >= sub.length) return true;
      } else if (sc === '#') {
        if (s > 0 && sub[s - 1] !== '/') return false;
        if (at(sub, s + 1) !== '') return false;
        for (; t < topic.length; t++) if (topic[t] === '+' || topic[t] === '#') return false;
        return true;
      } else {
        // e.g. foo/bar matching foo/+/#
        if (tc === '' && s > 0 && sub[s - 1] === '+' && sc === '/' && at(sub, s + 1) === '#') return true;
        return false;
      }
    } else {
      // Same character. e.g. foo matching foo/#
      if (at(topic, t + 1) === '' && at(sub, s + 1) === '/' && at(sub, s + 2) === '#' && at(sub, s + 3) === '') return true;
      s++;
      t++;
      if (s >= sub.length && t >= topic.length) return true;
      if (t >= topic.length && at(sub, s) === '+' && at(sub, s + 1) === '') {
        if (s > 0 && sub[s - 1] !== '/') return false;
        return true;
      }
    }
  }
  return false;
};

const isWildcardFree = (f: string): boolean => !f.includes('+') && !f.includes('#');

/** Wildcards occupy whole levels and '#' is last (the structural part of topicFilterProblem). */
const wellFormed = (levels: readonly string[]): boolean =>
  levels.every((l, k) => (l.includes('+') ? l === '+' : l.includes('#') ? l === '#' && k === levels.length - 1 : true));

/**
 * Level-wise coverage for valid filters that agree on the leading '$' (checked by the caller).
 * `a` covers `b` from levels i and j on when every continuation `b` matches, `a` matches too.
 */
const coversFrom = (a: readonly string[], i: number, b: readonly string[], j: number): boolean => {
  for (;;) {
    if (j === b.length) {
      // b's topics end here; a matches them only through the parent rule of a trailing '#'.
      return i === a.length || (i === a.length - 1 && a[i] === '#' && i > 0);
    }
    if (i === a.length) return false; // b's topics go deeper than a can
    const x = a[i] as string;
    const y = b[j] as string;
    if (x === '#') return true;
    if (y === '#') {
      // b matches its parent and any depth below; only a '#' matches that much. But when the
      // parent would be the empty topic (b is '#' or '/#'), which no client can publish, '+/#'
      // matches exactly the same topics.
      const noParent = j === 0 || (j === 1 && b[0] === '');
      return noParent && x === '+' && a.length === i + 2 && a[i + 1] === '#';
    }
    if (x !== '+' && (y === '+' || x !== y)) return false;
    i++;
    j++;
  }
};

/**
 * True only when every topic matched by filter `b` is also matched by filter `a` (so an ACL entry
 * for `b` is redundant next to one for `a`). Conservative: invalid filters give false.
 */
export const filterCovers = (a: string, b: string): boolean => {
  if (a === b) return a.length > 0 && wellFormed(a.split('/'));
  if (a.length === 0 || b.length === 0) return false;
  // A filter starting with '$' matches only '$' topics, and one not starting with '$' never does.
  if ((a[0] === '$') !== (b[0] === '$')) return false;
  if (isWildcardFree(a)) return false; // matches only itself, and b !== a
  const al = a.split('/');
  const bl = b.split('/');
  if (!wellFormed(al) || !wellFormed(bl)) return false;
  return coversFrom(al, 0, bl, 0);
};
