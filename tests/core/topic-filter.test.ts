import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DomainError } from '../../core/errors.ts';
import { assertTopicFilter, assertTopicName, topicFilterProblem, topicNameProblem } from '../../core/topic-filter.ts';

const HASH_RULE = "'#' must be the last level on its own (MQTT-4.7.1-2)";
const PLUS_RULE = "'+' must occupy a whole level (MQTT-4.7.1-3)";

const rejects = (value: unknown, fragment: string): void => {
  const problem = topicFilterProblem(value);
  assert.ok(problem !== null, `expected ${JSON.stringify(value)} to be rejected`);
  assert.match(problem, new RegExp(fragment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
};

describe('topicFilterProblem: what mosquitto_sub_topic_check and the ACL file accept', () => {
  it("accepts '+', '/', '+/x/#' and '#' on its own [ref §2.1]", () => {
    for (const f of ['+', '/', '+/x/#', '#', 'a/#', 'a/+/b', '+/+', '//', 'a//b']) assert.equal(topicFilterProblem(f), null, f);
  });

  it("accepts '$' topics such as $SYS/# (they need explicit rules, ref §2.3)", () => {
    for (const f of ['$SYS/#', '$SYS/broker/+', '$mcm/probe/12']) assert.equal(topicFilterProblem(f), null, f);
  });

  it('accepts inner spaces: the rest of the line is the topic [ref §2.1]', () => {
    assert.equal(topicFilterProblem('space topic/with spaces'), null);
    assert.equal(topicFilterProblem('foo // note'), null);
  });

  it('accepts %c and %u (substituted in pattern lines, literal in topic lines) [ref §2.2]', () => {
    assert.equal(topicFilterProblem('dev/%c/%u/#'), null);
  });

  it('accepts non-ASCII UTF-8, including 4-byte characters [MQTT-1.5.3]', () => {
    assert.equal(topicFilterProblem('ünï/ñ/😀'), null);
  });

  it("rejects a/#/b: '#' must be last [ref §2.1, MQTT-4.7.1-2]", () => rejects('a/#/b', HASH_RULE));
  it("rejects a#: '#' must follow '/' [ref §2.1, MQTT-4.7.1-2]", () => rejects('a#', HASH_RULE));
  it("rejects #/: nothing may follow '#' [ref §2.1, MQTT-4.7.1-2]", () => rejects('#/', HASH_RULE));
  it("rejects an inline comment 'foo # note': '#' not at the end of a level [ref §2.1]", () => rejects('foo # note', HASH_RULE));
  it("rejects a+/b: '+' must be a whole level [ref §2.1, MQTT-4.7.1-3]", () => rejects('a+/b', PLUS_RULE));
  it("rejects a/b+ and a/+b: '+' must be a whole level [ref §2.1, MQTT-4.7.1-3]", () => {
    rejects('a/b+', PLUS_RULE);
    rejects('a/+b', PLUS_RULE);
    rejects('++', PLUS_RULE);
  });

  it('rejects a non-string and the empty string [MQTT-4.7.3-1]', () => {
    for (const v of [42, null, undefined, {}, ['a']]) rejects(v, 'must be a string');
    rejects('', 'must not be empty');
  });

  it('rejects TAB, CR and LF: the ACL file splits on spaces and lines [ref §2.1]', () => {
    for (const f of ['topic\tread', 'a\nb', 'a\rb', 'a\u000bb']) rejects(f, 'control characters');
  });

  it('rejects DEL and C1 controls, as mosquitto_validate_utf8 does [MQTT-1.5.3]', () => {
    for (const f of ['a\u007f', 'a\u0080', 'a\u0085', 'a\u009f']) rejects(f, 'control characters');
    assert.equal(topicFilterProblem('a\u00a0b'), null); // NBSP is not a control character
  });

  it('rejects U+0000 [MQTT-1.5.3-2]', () => rejects('a\u0000b', 'U+0000'));

  it('rejects a lone surrogate: not encodable as UTF-8 [MQTT-1.5.3-1]', () => {
    rejects('a\ud800', 'surrogate');
    rejects('\udc00a', 'surrogate');
    rejects('\ud800\ud800', 'surrogate');
  });

  it('rejects Unicode noncharacters, which Mosquitto treats as malformed UTF-8', () => {
    for (const f of ['a\ufffe', 'a\uffff', 'a\ufdd0', 'a\u{1fffe}', 'a\u{10ffff}']) rejects(f, 'noncharacters');
  });

  it('rejects leading or trailing spaces: the broker trims the line [ref §2.1]', () => {
    rejects(' a', 'start or end with a space');
    rejects('a ', 'start or end with a space');
  });

  it('accepts 65535 bytes and rejects 65536, counting UTF-8 bytes [ref §2.1]', () => {
    assert.equal(topicFilterProblem('a'.repeat(65535)), null);
    rejects('a'.repeat(65536), '65535 bytes');
    // 'é' is 2 bytes in UTF-8: 32768 of them are 65536 bytes though only 32768 UTF-16 units.
    rejects('é'.repeat(32768), '65535 bytes');
    assert.equal(topicFilterProblem('é'.repeat(32767)), null);
  });

  it("accepts 200 '/' separators and rejects 201 (TOPIC_HIERARCHY_LIMIT) [ref §2.1]", () => {
    assert.equal(topicFilterProblem('/'.repeat(200)), null);
    rejects('/'.repeat(201), "200 '/' separators");
    rejects(`${'a/'.repeat(201)}#`, "200 '/' separators");
  });
});

describe('assertTopicFilter', () => {
  it('returns a valid filter unchanged', () => {
    assert.equal(assertTopicFilter('plant/+/temp'), 'plant/+/temp');
  });

  it('throws MCM_ERR_TOPIC_FILTER_INVALID with {field, value, rule} details [ref §2.1]', () => {
    assert.throws(
      () => assertTopicFilter('a/#/b', 'rules[2].topic'),
      (e: unknown) => {
        assert.ok(e instanceof DomainError);
        assert.equal(e.code, 'MCM_ERR_TOPIC_FILTER_INVALID');
        assert.deepEqual(e.details, [{ field: 'rules[2].topic', value: 'a/#/b', rule: HASH_RULE }]);
        assert.match(e.message, /a\/#\/b/);
        return true;
      },
    );
  });

  it("defaults the field to 'topic' and keeps error details short for huge values", () => {
    assert.throws(
      () => assertTopicFilter('a'.repeat(70000)),
      (e: unknown) => {
        assert.ok(e instanceof DomainError);
        const detail = e.details[0] as { field: string; value: string };
        assert.equal(detail.field, 'topic');
        assert.ok(detail.value.length < 300);
        return true;
      },
    );
  });
});

describe('topicNameProblem / assertTopicName: concrete topics (publish, explain)', () => {
  it('accepts plain topics, $ topics, empty levels and spaces [MQTT-4.7.1]', () => {
    for (const t of ['a/b', '$SYS/broker/version', '/', 'a//b', ' lead', 'retained messages/count']) {
      assert.equal(topicNameProblem(t), null, t);
    }
  });

  it("rejects the wildcards '+' and '#' anywhere [MQTT-4.7.1-1]", () => {
    for (const t of ['a/+', '#', 'a/#', 'a+b']) assert.match(topicNameProblem(t) ?? '', /wildcards/);
  });

  it('rejects empty, non-string, control characters, surrogates and oversized topics', () => {
    assert.match(topicNameProblem('') ?? '', /empty/);
    assert.match(topicNameProblem(7) ?? '', /string/);
    assert.match(topicNameProblem('a\nb') ?? '', /control/);
    assert.match(topicNameProblem('a\ud800') ?? '', /surrogate/);
    assert.match(topicNameProblem('a'.repeat(65536)) ?? '', /65535 bytes/);
    assert.match(topicNameProblem('/'.repeat(201)) ?? '', /separators/);
  });

  it('assertTopicName throws MCM_ERR_TOPIC_NAME_INVALID and returns valid names', () => {
    assert.equal(assertTopicName('a/b'), 'a/b');
    assert.throws(
      () => assertTopicName('a/+'),
      (e: unknown) => e instanceof DomainError && e.code === 'MCM_ERR_TOPIC_NAME_INVALID' && (e.details[0] as { field: string }).field === 'topic',
    );
  });
});
