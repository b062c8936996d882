/** parsePasswordFile: an existing broker's password_file read as Mosquitto reads it (reference §1.1), kept byte for byte. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parsePasswordFile } from '../../core/import/parse-password-file.ts';
import { HASH_A, HASH_B } from '../helpers/decider-spec.ts';

const SA = 'mcm-service';
const parse = (text: string, brokerLine: '2.0' | '2.1' | null = '2.0') => parsePasswordFile(text, { serviceAccount: SA, brokerLine });
const vectors = readFileSync(join(import.meta.dirname, '..', '..', 'fixtures', 'import', 'mosquitto-passwd-vectors.txt'), 'utf8')
  .split('\n').filter((l) => l !== '' && !l.startsWith('#')).map((l) => l.split('\t')[2] as string);
const SALT16 = 'XKm0/ruYS/eOrtlr';
const HASH88 = 'inRGfPMzec7uMWnXImeyhIxXW7aCqWkK6swGkFbduAfuxktrNQnfl4PozSrkZVETuXyLXXN79ndKVLAobuKFgw==';
const ARGON = '$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHRzb21lc2FsdA$NOi0h9ZWrjoAx4LhMrPBIuHHIOUv65/kWklX44UVOM4';

describe('parsePasswordFile', () => {
  describe('given the lines mosquitto_passwd 2.0 and 2.1 write (fixtures/import/mosquitto-passwd-vectors.txt: 2.0.11 and 2.1.2)', () => {
    it('keeps every hash byte for byte: $7$ with 101 and 1000 iterations, 12- and 64-byte salts, $6$ [ref §1.2, §8]', () => {
      const parsed = parse(`${vectors.join('\n')}\n`, '2.1');
      assert.deepEqual(parsed.problems, []);
      assert.deepEqual(parsed.entries.map((e) => `${e.username}:${e.hash}`), vectors);
      assert.deepEqual(parsed.entries.map((e) => e.line), vectors.map((_, i) => i + 1));
    });

    it('warns for a 2.0 (or unknown) broker about the 64-byte-salt lines, which 2.0 drops [ref §8]', () => {
      for (const line of ['2.0', null] as const) {
        const parsed = parse(`${vectors.join('\n')}\n`, line);
        const warned = parsed.warnings.filter((w) => w.code === 'hash_unreadable_by_2_0').map((w) => w.line);
        assert.deepEqual(warned, [5, 6], `broker line ${line}`);
      }
      assert.deepEqual(parse(`${vectors.join('\n')}\n`, '2.1').warnings, []);
    });
  });

  it('keeps an argon2id line and warns that 2.0 cannot read it [ref §8]', () => {
    const parsed = parse(`argon:${ARGON}\n`);
    assert.deepEqual(parsed.entries, [{ line: 1, username: 'argon', hash: ARGON }]);
    assert.match(parsed.warnings[0]?.message ?? '', /2\.0 broker drops this line \(argon2id\): the user cannot log in today either/);
  });

  it('reads CRLF files, trims the username and the password, and needs no final newline [ref §1.1 items 3, 4, 8]', () => {
    const parsed = parse(`alice:${HASH_A}\r\n  bob  :  ${HASH_B}  \r\ncarol:${HASH_A}`);
    assert.deepEqual(parsed.problems, []);
    assert.deepEqual(parsed.entries.map((e) => [e.username, e.hash]), [['alice', HASH_A], ['bob', HASH_B], ['carol', HASH_A]]);
    assert.deepEqual(parsed.warnings.map((w) => [w.line, w.code]), [[2, 'username_trimmed']]);
  });

  it('drops comments (column 1 only) and blank lines with a warning: MCM writes neither [ref §1.1 item 1, §1.4]', () => {
    const parsed = parse(`# devices\nalice:${HASH_A}\n\n   \nbob:${HASH_B}\n`);
    assert.deepEqual(parsed.entries.map((e) => e.username), ['alice', 'bob']);
    assert.deepEqual(parsed.warnings.map((w) => [w.line, w.code]), [[1, 'comment_dropped'], [undefined, 'blank_lines_dropped']]);
    assert.match(parsed.warnings[1]?.message ?? '', /2 blank lines \(first on line 3\)/);
  });

  it("skips the service account's own line with a warning: MCM renders it [DESIGN §6]", () => {
    const parsed = parse(`${SA}:${HASH_A}\nalice:${HASH_B}\n`);
    assert.deepEqual(parsed.entries.map((e) => e.username), ['alice']);
    assert.deepEqual(parsed.warnings.map((w) => [w.line, w.code]), [[1, 'service_account_skipped']]);
  });

  it('ignores text after a second ":" as the broker does, with a warning [ref §1.1 item 4]', () => {
    const parsed = parse(`alice:${HASH_A}:junk\n`);
    assert.deepEqual(parsed.entries.map((e) => e.hash), [HASH_A]);
    assert.equal(parsed.warnings[0]?.code, 'text_after_hash_dropped');
  });

  // Each bad line stands on line 2 after a good one; the problem must name line 2.
  const refused: [string, string, RegExp][] = [
    ['a plain-text password [ref §1.1]', 'bob:secret', /plain-text password/],
    ['an unknown hash type ($5$) [ref §1.1]', `bob:$5$${SALT16}$${HASH88}`, /hash type "\$5\$"/],
    ['an empty password field [ref §1.1]', 'bob:', /empty password field/],
    ['a password of blanks [ref §1.1]', 'bob:   ', /empty password field/],
    ['iterations below 1 [ref §1.1]', `bob:$7$0$${SALT16}$${HASH88}`, /iterations "0"/],
    ['non-decimal iterations [ref §1.2]', `bob:$7$x$${SALT16}$${HASH88}`, /iterations "x"/],
    ['a salt that is not base64 [ref §1.1]', `bob:$7$101$not*base64!!$${HASH88}`, /salt/],
    ['an unpadded hash [ref §1.2]', `bob:$7$101$${SALT16}$${HASH88.replace(/=+$/, '')}`, /hash does not decode to 64 bytes/],
    ['a hash of 63 bytes [ref §1.2]', `bob:$6$${SALT16}$${HASH88.slice(0, 84)}`, /hash does not decode to 64 bytes/],
    ['a missing hash ($6$<salt> alone, refused by 2.1) [ref §8]', `bob:$6$${SALT16}`, /malformed \$6\$/],
    ['a bare "$" [ref §8]', 'bob:$', /plain-text password/],
    ['an argon2id hash with padding', `bob:${ARGON}=`, /argon2id hash/],
    ['an argon2id hash of another version', `bob:${ARGON.replace('v=19', 'v=16')}`, /version/],
    ['a leading ":" (no username) [ref §1.1 item 3]', `:${HASH_A}`, /no username/],
    ['stray text without ":" [ref §1.1 item 2]', 'just some words', /without ":"/],
    ['a username MCM refuses ("+") [ref §1.3]', `dev+1:${HASH_A}`, /"dev\+1" cannot be managed by MCM: .*wildcard/],
    ['a username MCM refuses ("/") [ref §1.3]', `site/a:${HASH_A}`, /"\/"/],
    ['"  # x" (a user named "# x", not a comment) [ref §1.1 item 1]', `  # x:${HASH_A}`, /must not start with "#"/],
    ['a duplicate username (naming both lines) [ref §1.1 item 7, §8]', `alice:${HASH_B}`, /duplicate username "alice" \(also on line 1\)/],
  ];
  for (const [what, line2, message] of refused) {
    it(`refuses ${what} with its line number`, () => {
      const parsed = parse(`alice:${HASH_A}\n${line2}\n`);
      assert.equal(parsed.problems.length, 1, JSON.stringify(parsed.problems));
      assert.equal(parsed.problems[0]?.line, 2);
      assert.equal(parsed.problems[0]?.file, 'password_file');
      assert.match(parsed.problems[0]?.message ?? '', message);
    });
  }

  it('refuses a byte order mark on line 1 [ref §1.1 item 9]', () => {
    const parsed = parse(`\uFEFFalice:${HASH_A}\n`);
    assert.deepEqual(parsed.problems.map((p) => p.line), [1]);
    assert.match(parsed.problems[0]?.message ?? '', /byte order mark/);
  });

  it('lists every bad line, not only the first', () => {
    const parsed = parse(`a:x\nb:${HASH_A}\nc:\nd:y\n`);
    assert.deepEqual(parsed.problems.map((p) => p.line), [1, 3, 4]);
  });
});
