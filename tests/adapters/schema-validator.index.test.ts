/**
 * The topic-filter index behind JSON schema matching (DESIGN §7) must find exactly the filters
 * that `topicMatches` (core/topic-match.ts, a port of Mosquitto 2.0.11's
 * mosquitto_topic_matches_sub) would find by scanning them all.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { createTopicFilterIndex } from '../../adapters/observer/topic-filter-index.ts';
import { topicFilterProblem } from '../../core/topic-filter.ts';
import { topicMatches } from '../../core/topic-match.ts';

const sorted = (xs: number[]): number[] => [...xs].sort((a, b) => a - b);

/** Few distinct levels, so random filters and topics collide often; '$a' exercises the '$' rule. */
const LEVELS = ['a', 'b', '', '$a', '$SYS', 'x y'];
const topicArb = fc.array(fc.constantFrom(...LEVELS), { minLength: 1, maxLength: 5 }).map((l) => l.join('/'));
/** Filters the core accepts for a schema (core/topic-filter.ts), '#' and '+' often. */
const filterArb = fc
  .tuple(fc.array(fc.constantFrom(...LEVELS, '+', '+'), { minLength: 0, maxLength: 5 }), fc.boolean())
  .map(([l, hash]) => (hash ? [...l, '#'] : l).join('/'))
  .filter((f) => topicFilterProblem(f) === null);
/** Filters the core refuses: wildcards inside a level, '#' not last, empty. */
const malformedArb = fc
  .array(fc.constantFrom(...LEVELS, '+', '#', 'a+', 'b#', '+a'), { minLength: 0, maxLength: 4 })
  .map((l) => l.join('/'))
  .filter((f) => topicFilterProblem(f) !== null);

describe('createTopicFilterIndex', () => {
  it('finds exactly the filters topicMatches accepts, for random filter sets and topics [MQTT-4.7, ref §2.3]', () => {
    fc.assert(
      fc.property(fc.array(filterArb, { minLength: 1, maxLength: 30 }), fc.array(topicArb, { minLength: 1, maxLength: 20 }), (filters, topics) => {
        const index = createTopicFilterIndex<number>();
        filters.forEach((f, i) => index.add(f, i));
        for (const topic of topics) {
          const scan = filters.flatMap((f, i) => (topicMatches(f, topic) ? [i] : []));
          assert.deepEqual(sorted(index.match(topic)), scan, `topic ${JSON.stringify(topic)} filters ${JSON.stringify(filters)}`);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('never matches through a filter the core refuses (libmosquitto answers some of them, e.g. "+/#/a" vs "a")', () => {
    fc.assert(
      fc.property(fc.array(malformedArb, { minLength: 1, maxLength: 10 }), topicArb, (filters, topic) => {
        const index = createTopicFilterIndex<number>();
        filters.forEach((f, i) => index.add(f, i));
        assert.deepEqual(index.match(topic), []);
        assert.equal(index.size(), filters.length);
      }),
      { numRuns: 200 },
    );
  });

  it('agrees with topicMatches on the libmosquitto edge cases: parent of #, empty levels, $ topics', () => {
    const cases: [string, string][] = [
      ['foo/#', 'foo'], ['a/+/#', 'a/b'], ['+/#', 'a'], ['+/#', '$a'], ['#', '$SYS/broker'], ['$SYS/#', '$SYS'],
      ['foo/+', 'foo/'], ['+/+', '/'], ['/#', '/'], ['+', '/'], ['a/+', 'a/#'], ['#', 'a/+'], ['', 'a'], ['a', ''],
    ];
    for (const [filter, topic] of cases) {
      const index = createTopicFilterIndex<string>();
      index.add(filter, filter);
      assert.equal(index.match(topic).length === 1, topicMatches(filter, topic), `${filter} vs ${topic}`);
    }
  });

  it('returns a value once even when several of its filters match, and forgets removed ones', () => {
    const index = createTopicFilterIndex<string>();
    index.add('plant/#', 'A');
    index.add('plant/+/temp', 'A');
    index.add('plant/+/temp', 'B');
    assert.deepEqual(index.match('plant/l1/temp').sort(), ['A', 'B']);
    assert.equal(index.size(), 3);
    assert.equal(index.remove('plant/+/temp', 'B'), true);
    assert.equal(index.remove('plant/+/temp', 'B'), false);
    assert.deepEqual(index.match('plant/l1/temp'), ['A']);
    assert.equal(index.remove('a+', 'C'), false);
    index.add('a+', 'C');
    assert.equal(index.size(), 3);
    assert.deepEqual(index.match('a+'), []);
    index.clear();
    assert.deepEqual(index.match('plant/l1/temp'), []);
    assert.equal(index.size(), 0);
  });
});
