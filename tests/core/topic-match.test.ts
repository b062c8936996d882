import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { filterCovers, topicMatches } from '../../core/topic-match.ts';
import { topicFilterProblem } from '../../core/topic-filter.ts';

/**
 * [filter, topic, result] as returned by libmosquitto 2.0.11's mosquitto_topic_matches_sub
 * (called through ctypes on the installed libmosquitto.so.1; invalid input reads as false).
 */
const LIBMOSQUITTO_CASES: [string, string, boolean][] = [
  ['foo/bar', 'foo/bar', true], ['foo/bar', 'foo', false], ['foo', 'foo/bar', false], ['foo/+', 'foo/bar', true],
  ['foo/+', 'foo/bar/baz', false], ['foo/+', 'foo', false], ['foo/+', 'foo/', true], ['+/+', '/', true], ['+', 'a', true],
  ['+', '/', false], ['/+', '/', true], ['+/+/+', 'a//b', true], ['foo/#', 'foo', true], ['foo/#', 'foo/', true],
  ['foo/#', 'foo/bar/baz', true], ['foo/#', 'foobar', false], ['#', 'foo/bar', true], ['#', '/', true],
  ['#', '$SYS/broker', false], ['#', '$', false], ['+/broker', '$SYS/broker', false], ['+', '$SYS', false],
  ['$SYS/#', '$SYS', true], ['$SYS/#', '$SYS/broker/version', true], ['$SYS/+/version', '$SYS/broker/version', true],
  ['$x', '$x', true], ['$x/#', 'x', false], ['a/+/#', 'a/b', true], ['a/+/#', 'a', false], ['a/+/#', 'a/b/c/d', true],
  ['+/#', 'a', true], ['+/#', '$a', false], ['A/B/+/#', 'A/B/B/C', true], ['test/6/#', 'test/3', false],
  ['foo#', 'foo', false], ['fo#o/', 'foo', false], ['foo+', 'foo', false], ['foo+', 'fooa', false],
  ['a/#/b', 'a/x/b', false], ['+a', 'xa', false], ['a', 'a/+', false], ['a/+', 'a/#', false], ['#', 'a/+', false],
  ['', 'a', false], ['a', '', false], ['foo bar/+', 'foo bar/x', true], ['%c/x', '%c/x', true], ['/#', '/', true],
  ['/#', '', false], ['/#', 'a', false], ['//', '//', true], ['+//+', 'a//b', true], ['ü/+', 'ü/ñ', true],
];

/** The MQTT spec's level semantics (MQTT-4.7), written independently, for valid inputs only. */
const specMatches = (filter: string, topic: string): boolean => {
  if ((filter[0] === '$') !== (topic[0] === '$')) return false; // MQTT-4.7.2-1, as Mosquitto applies it
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true; // also matches the parent level: 'a/#' matches 'a'
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
};

const LEVELS = ['a', 'b', '', '$a'];
const topicArb = fc
  .array(fc.constantFrom(...LEVELS), { minLength: 1, maxLength: 4 })
  .map((l) => l.join('/'))
  .filter((t) => t.length > 0);
const filterArb = fc
  .tuple(fc.array(fc.constantFrom(...LEVELS, '+'), { minLength: 1, maxLength: 4 }), fc.boolean())
  .map(([l, hash]) => (hash ? [...l.slice(0, -1), '#'] : l).join('/'))
  .filter((f) => topicFilterProblem(f) === null);

describe('topicMatches: mosquitto_topic_matches_sub (lib/util_topic.c 2.0.11)', () => {
  for (const [filter, topic, expected] of LIBMOSQUITTO_CASES) {
    it(`${JSON.stringify(filter)} vs ${JSON.stringify(topic)} → ${expected} [libmosquitto 2.0.11]`, () => {
      assert.equal(topicMatches(filter, topic), expected);
    });
  }

  it("'#' alone matches everything not starting with '$' [ref §2.3, MQTT-4.7.2-1]", () => {
    assert.equal(topicMatches('#', 'a/b/c'), true);
    assert.equal(topicMatches('#', '$SYS/broker/version'), false);
  });

  it("'a/#' matches 'a' (the parent level) [MQTT-4.7.1-2]", () => assert.equal(topicMatches('a/#', 'a'), true));
  it("'+' matches an empty level [MQTT-4.7.1-3]", () => assert.equal(topicMatches('a/+/c', 'a//c'), true));

  it('agrees with the MQTT level semantics on every valid filter and topic (property) [MQTT-4.7]', () => {
    fc.assert(fc.property(filterArb, topicArb, (f, t) => topicMatches(f, t) === specMatches(f, t)), { numRuns: 5000 });
  });
});

/** Every topic b could match, over the literals in a and b plus one fresh one, up to depth+1. */
const universe = (a: string, b: string): string[] => {
  const lits = new Set(['zz', '$zz', '']);
  for (const l of [...a.split('/'), ...b.split('/')]) if (l !== '+' && l !== '#') lits.add(l);
  const depth = Math.max(a.split('/').length, b.split('/').length) + 1;
  let layer = [...lits];
  const out = [...layer];
  for (let d = 1; d < depth; d++) {
    layer = layer.flatMap((p) => [...lits].map((l) => `${p}/${l}`));
    out.push(...layer);
  }
  return out.filter((t) => t.length > 0);
};

describe('filterCovers: a covers b when every topic b matches, a matches too', () => {
  const cases: [string, string, boolean, string][] = [
    ['a/#', 'a/b', true, "'#' covers any depth"],
    ['a/#', 'a', true, "'a/#' covers its parent 'a'"],
    ['a/#', 'a/+/c', true, 'wildcards under a #'],
    ['a/+', 'a/b', true, "'+' covers one literal level"],
    ['a/+', 'a/+', true, 'identical filters'],
    ['a/+', 'a/#', false, "'a/#' also matches 'a' and deeper topics"],
    ['a/+/#', 'a/#', false, "'a/#' matches 'a', which 'a/+/#' does not"],
    ['#', '+/#', true, "'#' covers everything non-$"],
    ['+/#', '#', true, "'+/#' and '#' match the same topics"],
    ['+/+/#', '/#', true, "'/#' can't match its parent: the empty topic does not exist"],
    ['a/b', 'a/+', false, 'a literal never covers a wildcard'],
    ['a', 'b', false, 'different literals'],
    ['#', '$SYS/#', false, "'#' never matches '$' topics [ref §2.3]"],
    ['+/#', '$SYS/x', false, "'+' never matches a '$' first level [ref §2.3]"],
    ['$SYS/#', '$SYS/broker/+', true, "'$' filters cover '$' filters"],
    ['$SYS/#', 'x', false, "a '$' filter covers no plain topic"],
    ['a/#/b', 'a/x/b', false, 'invalid filters are never said to cover'],
    ['a/+', 'a/b+', false, 'invalid filters are never said to be covered'],
  ];
  for (const [a, b, expected, why] of cases) {
    it(`${a} ${expected ? 'covers' : 'does not cover'} ${b}: ${why}`, () => assert.equal(filterCovers(a, b), expected));
  }

  it('is sound: filterCovers(a, b) and b matches t imply a matches t (property) [ref §10]', () => {
    fc.assert(
      fc.property(filterArb, filterArb, topicArb, (a, b, t) => !(filterCovers(a, b) && topicMatches(b, t)) || topicMatches(a, t)),
      { numRuns: 20000 },
    );
  });

  it('is exact on small filters: true whenever brute force over a topic universe finds no counterexample (property)', () => {
    fc.assert(
      fc.property(filterArb, filterArb, (a, b) => {
        const covered = universe(a, b).every((t) => !topicMatches(b, t) || topicMatches(a, t));
        return filterCovers(a, b) === covered;
      }),
      { numRuns: 3000 },
    );
  });
});
